/**
 * How long single Lua calls run, as Redis itself measures them (SPEC F6): SLOWLOG records
 * every command of 1 ms or more with its duration — a script call as a whole, and also the
 * commands inside it (Redis 7 logs those too), so the threshold stays above what a single
 * inner command takes — and INFO commandstats counts the script calls and their total time.
 * Only on a private redis-server: it changes the server's configuration for the duration.
 */
import type { Redis } from 'ioredis';

export interface ScriptTiming {
  /** Script calls (EVALSHA / EVAL) the operation made. */
  calls: number;
  /** Longest single script call (ms); 0 when none took 1 ms. */
  maxMs: number;
  /** 99th percentile of the script calls (ms; calls under 1 ms count as 0). */
  p99Ms: number;
  /** Sum of the script calls' durations (ms). */
  totalMs: number;
  /** Script calls that ran ≥ 50 ms (F6's bound). */
  over50ms: number;
}

type SlowlogEntry = [number, number, number, string[], ...unknown[]];

/** Calls and microseconds of EVALSHA + EVAL so far. */
async function scriptStats(redis: Redis): Promise<{ calls: number; usec: number }> {
  const info = await redis.info('commandstats');
  let calls = 0;
  let usec = 0;
  for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+),usec=(\d+)/gm)) {
    calls += Number(m[1]);
    usec += Number(m[2]);
  }
  return { calls, usec };
}

/** Runs `fn`, and returns what its script calls cost (plus fn's value). */
export async function timeScripts<T>(redis: Redis, fn: () => Promise<T>): Promise<{ timing: ScriptTiming; value: T }> {
  const before = (await redis.config('GET', 'slowlog-*')) as string[];
  await redis.config('SET', 'slowlog-log-slower-than', '1000');
  await redis.config('SET', 'slowlog-max-len', '100000');
  await redis.slowlog('RESET');
  const start = await scriptStats(redis);
  let value: T;
  let entries: SlowlogEntry[];
  let end: { calls: number; usec: number };
  try {
    value = await fn();
  } finally {
    end = await scriptStats(redis);
    entries = (await redis.slowlog('GET', -1)) as SlowlogEntry[];
    for (let i = 0; i + 1 < before.length; i += 2) await redis.config('SET', before[i]!, before[i + 1]!);
  }
  const micros = entries.filter((e) => /^eval(sha)?$/i.test(String(e[3]?.[0] ?? ''))).map((e) => Number(e[2]));
  const calls = end.calls - start.calls;
  const sorted = micros.sort((a, b) => b - a);
  const p99 = sorted[Math.floor(calls / 100)] ?? 0;
  const timing: ScriptTiming = {
    calls,
    maxMs: Math.round((sorted[0] ?? 0) / 10) / 100,
    p99Ms: Math.round(p99 / 10) / 100,
    totalMs: Math.round((end.usec - start.usec) / 1000),
    over50ms: micros.filter((us) => us >= 50_000).length,
  };
  return { timing, value: value! };
}
