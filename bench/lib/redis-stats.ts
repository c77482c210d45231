/**
 * Redis commands a measured window caused (INFO commandstats before and after): calls and
 * server time per command, and calls per unit of work (per agent, per job) — the number of
 * round trips licensegate needs is what most of its CPU goes to on a small machine.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loadScripts } from '../../src/store/scripts.ts';

type Stats = Map<string, { calls: number; usec: number }>;

async function read(redis: Redis): Promise<Stats> {
  const text = await redis.info('commandstats');
  const out: Stats = new Map();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  return out;
}

export interface CommandDelta {
  /** Commands per unit (agent, job), all commands together. */
  perUnit: number;
  total: number;
  /** Per command: calls per unit and Redis server µs per call; busiest first. */
  commands: { command: string; perUnit: number; usecPerCall: number }[];
}

export class RedisCommandWindow {
  private constructor(
    private readonly redis: Redis,
    private readonly before: Stats,
  ) {}

  static async start(redis: Redis): Promise<RedisCommandWindow> {
    return new RedisCommandWindow(redis, await read(redis));
  }

  /** The commands since start(), per `units` (e.g. the number of agents), excluding `info` itself. */
  async stop(units: number): Promise<CommandDelta> {
    const after = await read(this.redis);
    const rows: CommandDelta['commands'] = [];
    let total = 0;
    for (const [cmd, a] of after) {
      if (cmd === 'info') continue;
      const b = this.before.get(cmd) ?? { calls: 0, usec: 0 };
      const calls = a.calls - b.calls;
      if (calls <= 0) continue;
      total += calls;
      rows.push({ command: cmd, perUnit: round2(calls / units), usecPerCall: round2((a.usec - b.usec) / calls) });
    }
    rows.sort((x, y) => y.perUnit * y.usecPerCall - x.perUnit * x.usecPerCall);
    return { perUnit: round2(total / units), total, commands: rows.slice(0, 15) };
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Which licensegate script an EVALSHA ran (sha1 of the full source, as ioredis sends it). */
function scriptNames(): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of loadScripts()) out.set(createHash('sha1').update(s.lua).digest('hex'), `lg_${s.name}`);
  return out;
}

export interface SlowCommands {
  thresholdUs: number;
  /** Commands that kept Redis busy at least thresholdUs, grouped by command (script name for EVALSHA) and client. */
  slow: { command: string; client: string; count: number; maxUs: number; totalUs: number }[];
}

/**
 * Redis's slow log over a window (the bench owns this redis-server, so it may reset the log):
 * every command that kept Redis busy for `thresholdUs` or more — while it runs, every other
 * client waits, so these are the usual suspects for latency tails.
 */
export class RedisSlowWindow {
  private constructor(
    private readonly redis: Redis,
    private readonly thresholdUs: number,
  ) {}

  static async start(redis: Redis, thresholdUs = 1000): Promise<RedisSlowWindow> {
    await redis.config('SET', 'slowlog-log-slower-than', String(thresholdUs));
    await redis.config('SET', 'slowlog-max-len', '1024');
    await redis.call('SLOWLOG', 'RESET');
    return new RedisSlowWindow(redis, thresholdUs);
  }

  async stop(): Promise<SlowCommands> {
    const entries = (await this.redis.call('SLOWLOG', 'GET', '1024')) as [number, number, number, string[], string, string][];
    await this.redis.config('SET', 'slowlog-log-slower-than', '10000');
    const names = scriptNames();
    const groups = new Map<string, { command: string; client: string; count: number; maxUs: number; totalUs: number }>();
    for (const [, , us, args, , client] of entries) {
      const cmd = String(args[0] ?? '').toLowerCase();
      const command = cmd === 'evalsha' ? (names.get(String(args[1])) ?? 'evalsha (BullMQ or other)') : cmd;
      const key = `${command}|${client}`;
      const g = groups.get(key) ?? { command, client: client || '(unnamed)', count: 0, maxUs: 0, totalUs: 0 };
      g.count++;
      g.maxUs = Math.max(g.maxUs, us);
      g.totalUs += us;
      groups.set(key, g);
    }
    return { thresholdUs: this.thresholdUs, slow: [...groups.values()].sort((a, b) => b.totalUs - a.totalUs).slice(0, 12) };
  }
}
