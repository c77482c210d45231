/**
 * Durability modes (SPEC F5, R1): when may licensegate tell an agent (Welcome) or an admin (a
 * job's result) that a change happened? docs/durability.md states each mode's loss window and cost.
 *
 * - `everysec` (default): Redis appends every write to its AOF and fsyncs once a second. A reply
 *   means the write reached the OS (write(2) runs before replies are sent): a crash of redis-server
 *   alone loses nothing, a crash of the machine loses up to ~1 s (2 s when the disk is slow).
 * - `always`: Redis fsyncs the AOF before it sends the replies of an event-loop iteration, so a
 *   reply is itself the proof of durability: no extra round trip, every acknowledged write
 *   survives a machine crash. Redis 7.0 has no WAITAOF, so the Redis side must be configured
 *   (`appendfsync always`); start-up verifies it (verifyRedisDurability).
 * - `replicas:<n>`: after the writes of a turn, `WAIT n timeout` on the same connection; an
 *   acknowledgement goes out only when n replicas hold every write made on that connection before
 *   the WAIT. Fewer in time: the acknowledgement is refused with NOT_DURABLE (retryable).
 *
 * The mode travels with the connection (createRedis sets it): the code that writes and then
 * acknowledges — the gateway's TurnBatcher, the admin worker — asks the connection it wrote on.
 */
import type { ChainableCommander } from 'ioredis';
import { isCluster, nodesOf, type RedisClient } from './redis-connection.ts';
import type { Logger } from 'pino';
import { LicensegateError } from '../errors.ts';
import { hashTagOf } from './slot-routing.ts';

export type DurabilityMode =
  | { kind: 'everysec' }
  | { kind: 'always' }
  | { kind: 'replicas'; replicas: number; timeoutMs: number };

/** The values DURABILITY accepts. */
export const DURABILITY_PATTERN = /^(everysec|always|replicas:([1-9]\d{0,2}))$/;

/** Parses DURABILITY (`everysec` | `always` | `replicas:<n>`); timeoutMs bounds each WAIT. */
export function parseDurability(text: string, timeoutMs: number): DurabilityMode {
  const m = DURABILITY_PATTERN.exec(text);
  if (!m) throw new Error(`"${text}" must be everysec, always or replicas:<n> with n from 1 to 999`);
  if (m[1] === 'everysec' || m[1] === 'always') return { kind: m[1] };
  return { kind: 'replicas', replicas: Number(m[2]), timeoutMs };
}

export function durabilityName(mode: DurabilityMode): string {
  return mode.kind === 'replicas' ? `replicas:${mode.replicas}` : mode.kind;
}

/** The redis-server `appendfsync` a mode needs from a Redis licensegate configures itself. */
export function appendfsyncFor(mode: DurabilityMode): 'always' | 'everysec' {
  return mode.kind === 'always' ? 'always' : 'everysec';
}

export interface CommitResult {
  /** [error, reply] of each command the commit added, in order. */
  results: [Error | null, unknown][];
  /** Replicas that acknowledged the WAIT (0 when it failed). */
  replicas: number;
  /** True when `replicas` reached the mode's n. */
  durable: boolean;
}

interface Commit {
  build: (pipeline: ChainableCommander) => void;
  resolve: (r: CommitResult) => void;
  reject: (err: unknown) => void;
}

/** Commits waiting for, or riding on, one WAIT: one lane per connection, per slot on a Cluster. */
interface Lane {
  queue: Commit[];
  inFlight: boolean;
}

/**
 * Group commit for `replicas:<n>` on one connection: the commands of every commit queued meanwhile
 * go out as one pipeline ending in one `WAIT n timeout`, with at most one WAIT in flight. WAIT
 * covers every write this connection made before it, whoever made it; and a WAIT blocks the whole
 * connection in Redis until it returns, so sending one per caller would stall the connection for
 * up to `timeout` per caller when replicas lag — one in flight bounds that stall to one timeout.
 *
 * On a Cluster the writes of a commit live on the master that owns their slot, and WAIT counts
 * only that master's replicas: each commit names a routing key, commits queue per slot (hash
 * tag), and each slot group's pipeline ends in its own WAIT, which ioredis sends with it to that
 * master (docs/redis-modes.md). On a single Redis the routing key is ignored: one lane, as before.
 */
export class ReplicaGate {
  private readonly lanes = new Map<string, Lane>();
  /** WAITs sent (tests and the bench read it). */
  waits = 0;

  constructor(
    private readonly redis: RedisClient,
    readonly replicas: number,
    readonly timeoutMs: number,
  ) {}

  /**
   * Sends build's commands followed by the WAIT (with other commits queued meanwhile).
   * routingKey: a key every command of build hashes with (needed on a Cluster only).
   */
  commit(build: (pipeline: ChainableCommander) => void, routingKey = ''): Promise<CommitResult> {
    const laneKey = isCluster(this.redis) ? hashTagOf(routingKey) : '';
    let lane = this.lanes.get(laneKey);
    if (!lane) {
      lane = { queue: [], inFlight: false };
      this.lanes.set(laneKey, lane);
    }
    const l = lane;
    return new Promise<CommitResult>((resolve, reject) => {
      l.queue.push({ build, resolve, reject });
      if (!l.inFlight) this.send(laneKey, l);
    });
  }

  /**
   * The barrier of awaitDurable on a Cluster: one WAIT on every master, each on the connection
   * that carried this process's writes to it (a Cluster keeps one per node).
   */
  async everyMaster(): Promise<{ replicas: number; durable: boolean }> {
    const masters = nodesOf(this.redis);
    this.waits += masters.length;
    const acked = await Promise.all(masters.map((m) => m.wait(this.replicas, this.timeoutMs).then(Number, () => 0)));
    const replicas = acked.length ? Math.min(...acked) : 0;
    return { replicas, durable: replicas >= this.replicas };
  }

  private send(laneKey: string, lane: Lane, retry?: { batch: Commit[]; attempt: number }): void {
    const batch = retry?.batch ?? lane.queue;
    if (!retry) lane.queue = [];
    lane.inFlight = true;
    this.waits++;
    const pipeline = this.redis.pipeline();
    const spans = batch.map((c) => {
      const start = pipeline.length;
      try {
        c.build(pipeline);
      } catch (err) {
        c.reject(err);
      }
      return [start, pipeline.length] as const;
    });
    pipeline.wait(this.replicas, this.timeoutMs);
    let again = false;
    pipeline
      .exec()
      .then(
        (raw) => {
          const results = (raw ?? []) as [Error | null, unknown][];
          const attempt = retry?.attempt ?? 0;
          if (attempt < MAX_REDIRECT_RETRIES && isCluster(this.redis) && refusedBySlot(results)) {
            // Nothing of the group ran: its slot lives elsewhere now (failover, resharding).
            // ioredis does not retry it because the WAIT answered; send it again once the
            // slot map is fresh, still ahead of what queued meanwhile.
            again = true;
            const cluster = this.redis;
            setTimeout(() => cluster.refreshSlotsCache(() => this.send(laneKey, lane, { batch, attempt: attempt + 1 })), REDIRECT_RETRY_MS * (attempt + 1));
            return;
          }
          const [waitErr, acked] = results[results.length - 1] ?? [new Error('no WAIT reply'), 0];
          const replicas = waitErr ? 0 : Number(acked);
          const durable = replicas >= this.replicas;
          batch.forEach((c, i) => c.resolve({ results: results.slice(spans[i]![0], spans[i]![1]), replicas, durable }));
        },
        (err: unknown) => {
          for (const c of batch) c.reject(err);
        },
      )
      .finally(() => {
        if (again) return;
        lane.inFlight = false;
        if (lane.queue.length) this.send(laneKey, lane);
        else this.lanes.delete(laneKey);
      });
  }

  /** The refusal for a WAIT that fell short. */
  shortfall(replicas: number): LicensegateError {
    return new LicensegateError('NOT_DURABLE', `${replicas} of ${this.replicas} replicas acknowledged within ${this.timeoutMs} ms`);
  }
}

/** A slot group refused by redirection is sent again at most this often, 100, 200, 300… ms apart. */
const MAX_REDIRECT_RETRIES = 5;
const REDIRECT_RETRY_MS = 100;

/**
 * True when every command before the trailing WAIT was refused because its slot is not served
 * there (MOVED, ASK, TRYAGAIN, CLUSTERDOWN): then none of them ran and sending them again is safe.
 */
function refusedBySlot(results: [Error | null, unknown][]): boolean {
  const writes = results.slice(0, -1);
  return writes.length > 0 && writes.every(([err]) => err !== null && /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /.test(err.message));
}

const gates = new WeakMap<RedisClient, ReplicaGate>();

/** Records the mode of a connection (createRedis does this); only `replicas:<n>` needs a gate. */
export function setDurability(redis: RedisClient, mode: DurabilityMode): void {
  if (mode.kind === 'replicas') gates.set(redis, new ReplicaGate(redis, mode.replicas, mode.timeoutMs));
  else gates.delete(redis);
}

/** The connection's WAIT gate, when its mode is `replicas:<n>`. */
export function replicaGateOf(redis: RedisClient): ReplicaGate | undefined {
  return gates.get(redis);
}

/**
 * The barrier before an acknowledgement: resolves once every write made so far on these
 * connections is durable in their mode, or rejects with NOT_DURABLE. In `everysec` and `always`
 * it returns at once: the replies already received are all the proof those modes give.
 */
export async function awaitDurable(...connections: RedisClient[]): Promise<void> {
  await Promise.all(
    [...new Set(connections)].map(async (redis) => {
      const gate = gates.get(redis);
      if (!gate) return;
      // A Cluster spreads a job's writes over masters: WAIT on each (one connection per node).
      const r = isCluster(redis) ? await gate.everyMaster() : await gate.commit(() => {});
      if (!r.durable) throw gate.shortfall(r.replicas);
    }),
  );
}

/**
 * Start-up check of the Redis a mode relies on. `always` requires `appendonly yes`,
 * `appendfsync always` and `no-appendfsync-on-rewrite no` (read with CONFIG GET); where CONFIG is
 * renamed or forbidden, the operator asserts it with DURABILITY_CHECK=skip. `replicas:<n>` warns
 * when fewer replicas are connected now (they may still be starting). `everysec` warns when AOF is off.
 */
export async function verifyRedisDurability(redis: RedisClient, mode: DurabilityMode, o: { check: 'config' | 'skip'; logger: Logger }): Promise<void> {
  // On a Cluster every master holds some tenants: each must keep the promise.
  for (const node of nodesOf(redis)) await verifyNode(node, mode, o);
}

async function verifyNode(redis: RedisClient, mode: DurabilityMode, o: { check: 'config' | 'skip'; logger: Logger }): Promise<void> {
  if (mode.kind === 'replicas') {
    const info = await redis.info('replication');
    const role = /^role:(\S+)/m.exec(info)?.[1];
    if (role !== 'master') throw new Error(`DURABILITY=${durabilityName(mode)}: the Redis must be a primary, but it has role ${role ?? 'unknown'}`);
    const connected = Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0);
    if (connected < mode.replicas) {
      o.logger.warn({ connected, wanted: mode.replicas }, `DURABILITY=${durabilityName(mode)}: only ${connected} replica(s) connected; Welcomes and job results are refused (NOT_DURABLE) until ${mode.replicas} acknowledge`);
    }
    return;
  }
  if (o.check === 'skip') {
    if (mode.kind === 'always') o.logger.info('DURABILITY_CHECK=skip: trusting that Redis runs with appendonly yes and appendfsync always');
    return;
  }
  let config: Record<string, string>;
  try {
    config = await readConfig(redis, ['appendonly', 'appendfsync', 'no-appendfsync-on-rewrite']);
  } catch (err) {
    if (mode.kind === 'everysec') return; // nothing depends on it; R1's AOF is the operator's call there
    throw new Error(
      `DURABILITY=always: cannot read the Redis configuration to verify that it fsyncs every write (CONFIG GET failed: ${(err as Error).message}). ` +
        'Configure that Redis with `appendonly yes`, `appendfsync always` and `no-appendfsync-on-rewrite no`, then set DURABILITY_CHECK=skip to assert it, or allow CONFIG GET for this connection.',
    );
  }
  if (mode.kind === 'everysec') {
    if (config.appendonly !== 'yes') o.logger.warn('Redis runs without AOF (appendonly no): a Redis restart loses every change (SPEC R1); see docs/durability.md');
    return;
  }
  const wrong = [
    config.appendonly !== 'yes' ? `appendonly is ${config.appendonly ?? 'unset'} (needs yes)` : '',
    config.appendfsync !== 'always' ? `appendfsync is ${config.appendfsync ?? 'unset'} (needs always)` : '',
    config['no-appendfsync-on-rewrite'] === 'yes' ? 'no-appendfsync-on-rewrite is yes (needs no: fsyncs are skipped during a rewrite)' : '',
  ].filter(Boolean);
  if (wrong.length) {
    throw new Error(
      `DURABILITY=always needs a Redis that fsyncs every write, but ${wrong.join(', ')}. ` +
        'Set them in its redis.conf (or CONFIG SET them and CONFIG REWRITE), or choose DURABILITY=everysec; see docs/durability.md.',
    );
  }
}

async function readConfig(redis: RedisClient, names: string[]): Promise<Record<string, string>> {
  const reply = (await redis.call('CONFIG', 'GET', ...names)) as string[] | Record<string, string>;
  if (!Array.isArray(reply)) return { ...reply }; // a RESP3 map, when the connection maps replies so
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}
