/**
 * How long single Lua calls run, as Redis itself measures them (SPEC F6): SLOWLOG with a
 * threshold of 0 records every command with its duration, so the longest EVALSHA/EVAL of an
 * operation and the number of script calls it took can be read back. Only on a private
 * redis-server: it changes the server's configuration for the duration.
 */
import type { Redis } from 'ioredis';

export interface ScriptTiming {
  /** Script calls (EVALSHA / EVAL) the operation made. */
  calls: number;
  /** Longest single script call (ms). */
  maxMs: number;
  /** Sum of the script calls' durations (ms). */
  totalMs: number;
  /** Script calls that ran ≥ 50 ms (F6's bound). */
  over50ms: number;
}

type SlowlogEntry = [number, number, number, string[], ...unknown[]];

/** Runs `fn` with every command logged, and returns what the scripts cost (plus fn's value). */
export async function timeScripts<T>(redis: Redis, fn: () => Promise<T>): Promise<{ timing: ScriptTiming; value: T }> {
  const before = (await redis.config('GET', 'slowlog-*')) as string[];
  await redis.config('SET', 'slowlog-log-slower-than', '0');
  await redis.config('SET', 'slowlog-max-len', '1000000');
  await redis.slowlog('RESET');
  let value: T;
  let entries: SlowlogEntry[];
  try {
    value = await fn();
  } finally {
    entries = (await redis.slowlog('GET', -1)) as SlowlogEntry[];
    for (let i = 0; i + 1 < before.length; i += 2) await redis.config('SET', before[i]!, before[i + 1]!);
  }
  const scripts = entries.filter((e) => /^eval(sha)?$/i.test(String(e[3]?.[0] ?? '')));
  const micros = scripts.map((e) => Number(e[2]));
  const timing: ScriptTiming = {
    calls: scripts.length,
    maxMs: Math.round(micros.reduce((a, b) => Math.max(a, b), 0) / 10) / 100,
    totalMs: Math.round(micros.reduce((a, b) => a + b, 0) / 1000),
    over50ms: micros.filter((us) => us >= 50_000).length,
  };
  return { timing, value: value! };
}
