/**
 * Redis commands a measured window caused (INFO commandstats before and after, summed over every
 * master: one Redis, the Sentinel primary, or each Cluster master): calls and server time per
 * command, and calls per unit of work (per enrollment, reconnect, heartbeat flush, job) — the
 * number of round trips licensegate needs is what most of its CPU goes to on a small machine.
 * Commands a Lua script runs count too (Redis counts them in commandstats as well as the
 * EVALSHA that ran them).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { nodesOf, type RedisClient } from '../../src/store/redis-connection.ts';
import { loadScripts } from '../../src/store/scripts.ts';

type Stats = Map<string, { calls: number; usec: number }>;

/** Pseudo-command carrying the server's main-thread CPU (µs, user + sys) in a node's Stats. */
const CPU = '\u0000cpu';

/** Per server (by address), so that a window compares each master with itself. */
type NodeStats = Map<string, Stats>;

const addressOf = (node: Redis) => `${node.options.host}:${node.options.port}`;

async function readNode(node: Redis): Promise<Stats> {
  // One INFO call for both sections, so the CPU and the command counts are read at one instant.
  const text = String(await node.call('INFO', 'cpu', 'commandstats'));
  const out: Stats = new Map();
  const cpu = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0);
  // Redis's main thread runs every command (io-threads off): what saturates first.
  out.set(CPU, { calls: 0, usec: Math.round((cpu('used_cpu_user_main_thread') + cpu('used_cpu_sys_main_thread')) * 1e6) });
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  return out;
}

async function read(redis: RedisClient): Promise<NodeStats> {
  const nodes = nodesOf(redis);
  const stats = await Promise.all(nodes.map(readNode));
  return new Map(nodes.map((n, i) => [addressOf(n), stats[i]!]));
}

/**
 * Client requests Redis read, summed over every master (INFO stats total_reads_processed: one
 * per socket read, so requests pipelined in one write count once): the round trips a window
 * caused, replication links and this bench's own INFO included.
 */
export async function readsProcessed(redis: RedisClient): Promise<number> {
  const infos = await Promise.all(nodesOf(redis).map((n) => n.info('stats')));
  return infos.reduce((sum, text) => sum + Number(/^total_reads_processed:(\d+)/m.exec(text)?.[1] ?? 0), 0);
}

export interface CommandDelta {
  /** Commands per unit (agent, job), all commands together. */
  perUnit: number;
  total: number;
  /** Masters whose commands were summed (1 for one Redis or Sentinel, 3 for the bench's Cluster). */
  masters: number;
  /** What one unit is (an enrollment, a reconnect, a heartbeat flush, a job). */
  unit?: string;
  /** Per command: calls per unit and Redis server µs per call; busiest first. */
  commands: { command: string; perUnit: number; usecPerCall: number }[];
  /**
   * Redis CPU per unit (µs), summed over the masters: the main thread's user + sys time over the
   * window (INFO cpu used_cpu_*_main_thread), so command execution plus reading and writing the
   * sockets — what one shard has to spend per operation (docs/capacity.md). Everything the
   * server did in the window counts (its cron, replication feed, the bench's INFO).
   */
  cpuUsPerUnit?: number;
}

export class RedisCommandWindow {
  private constructor(
    private readonly redis: RedisClient,
    private readonly before: NodeStats,
  ) {}

  static async start(redis: RedisClient): Promise<RedisCommandWindow> {
    return new RedisCommandWindow(redis, await read(redis));
  }

  /**
   * The commands since start(), per `units` (e.g. the number of agents), excluding `info`
   * itself, summed over the masters (a master that was not one at start() counts from zero).
   */
  async stop(units: number, unit?: string): Promise<CommandDelta> {
    const after = await read(this.redis);
    const sum = new Map<string, { calls: number; usec: number }>();
    let cpuUs = 0;
    for (const [address, stats] of after) {
      const before = this.before.get(address) ?? new Map();
      cpuUs += (stats.get(CPU)?.usec ?? 0) - (before.get(CPU)?.usec ?? 0);
      for (const [cmd, a] of stats) {
        if (cmd === 'info' || cmd === CPU) continue;
        const b = before.get(cmd) ?? { calls: 0, usec: 0 };
        const calls = a.calls - b.calls;
        if (calls <= 0) continue;
        const s = sum.get(cmd) ?? { calls: 0, usec: 0 };
        s.calls += calls;
        s.usec += a.usec - b.usec;
        sum.set(cmd, s);
      }
    }
    const rows: CommandDelta['commands'] = [];
    let total = 0;
    for (const [cmd, { calls, usec }] of sum) {
      total += calls;
      rows.push({ command: cmd, perUnit: round2(calls / units), usecPerCall: round2(usec / calls) });
    }
    rows.sort((x, y) => y.perUnit * y.usecPerCall - x.perUnit * x.usecPerCall);
    return { perUnit: round2(total / units), total, masters: after.size, ...(unit ? { unit } : {}), commands: rows.slice(0, 15), cpuUsPerUnit: round2(cpuUs / units) };
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
    private readonly redis: RedisClient,
    private readonly thresholdUs: number,
  ) {}

  /** On every master. */
  static async start(redis: RedisClient, thresholdUs = 1000): Promise<RedisSlowWindow> {
    for (const node of nodesOf(redis)) {
      await node.config('SET', 'slowlog-log-slower-than', String(thresholdUs));
      await node.config('SET', 'slowlog-max-len', '1024');
      await node.call('SLOWLOG', 'RESET');
    }
    return new RedisSlowWindow(redis, thresholdUs);
  }

  async stop(): Promise<SlowCommands> {
    const entries: [number, number, number, string[], string, string][] = [];
    for (const node of nodesOf(this.redis)) {
      entries.push(...((await node.call('SLOWLOG', 'GET', '1024')) as [number, number, number, string[], string, string][]));
      await node.config('SET', 'slowlog-log-slower-than', '10000');
    }
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
