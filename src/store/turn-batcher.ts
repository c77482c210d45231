/**
 * Sends the Redis commands issued during one event-loop turn as one pipeline, written once.
 *
 * ioredis' auto-pipelining flushes on process.nextTick, i.e. after every socket callback: when a
 * storm of agents is read in one poll phase, each Hello (and each credential-confirming
 * Heartbeat) still costs its own write() to Redis — on this class of VM a syscall costs tens of
 * microseconds and was the gateway's largest CPU item in a boot storm. Flushing on setImmediate
 * instead gathers every command issued by the sockets of one poll phase into one write, at the
 * cost of waiting for the end of that phase (well under a millisecond).
 *
 * With DURABILITY=replicas:<n> the turn's pipeline ends in one `WAIT n timeout` (through the
 * connection's ReplicaGate: one WAIT covers every write before it on the connection, and turns
 * queued while a WAIT is out go together behind the next one). Every reply of the turn resolves
 * only after that WAIT, and a WAIT that fell short rejects them all with NOT_DURABLE: whatever
 * the gateway tells an agent from these replies (a Welcome above all) is on n replicas (SPEC F5).
 */
import type { ChainableCommander } from 'ioredis';
import { isCluster, type RedisClient } from './redis-connection.ts';
import { replicaGateOf } from './durability.ts';
import { groupBySlot } from './slot-routing.ts';

interface Pending {
  /** A key of the command: its slot decides which pipeline it joins on a Cluster. */
  routingKey: string;
  /** Adds exactly one command to the pipeline. */
  add: (pipeline: ChainableCommander) => void;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * On a Cluster the turn is split by slot (hash tag): one pipeline per slot group, each written
 * to the master that owns it and, with `replicas:<n>`, ending in its own WAIT there — a Cluster
 * refuses a pipeline across nodes, and WAIT counts only the replicas of the master it runs on.
 * Commands keep their order within a slot; nothing orders work across tenants anyway. On a
 * single Redis the turn stays one pipeline, exactly as before.
 */
export class TurnBatcher {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(private readonly redis: RedisClient) {}

  /** Queues one command for this turn's pipeline; resolves with its reply. routingKey: a key of that command. */
  run<T = unknown>(routingKey: string, add: (pipeline: ChainableCommander) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ routingKey, add, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (!isCluster(this.redis)) return this.send(batch);
    for (const group of groupBySlot(this.redis, batch, (p) => p.routingKey)) this.send(group);
  }

  /** One pipeline (one slot group on a Cluster), ending in a WAIT in `replicas:<n>`. */
  private send(batch: Pending[]): void {
    const gate = replicaGateOf(this.redis);
    if (gate) {
      gate.commit((pipeline) => {
        for (const p of batch) p.add(pipeline);
      }, batch[0]!.routingKey).then(
        ({ results, replicas, durable }) => {
          batch.forEach((p, i) => {
            const [err, reply] = results[i] ?? [new Error('no reply in pipeline'), null];
            if (err) p.reject(err);
            else if (!durable) p.reject(gate.shortfall(replicas));
            else p.resolve(reply);
          });
        },
        (err: unknown) => {
          for (const p of batch) p.reject(err);
        },
      );
      return;
    }
    const pipeline = this.redis.pipeline();
    for (const p of batch) p.add(pipeline);
    pipeline.exec().then(
      (results) => {
        batch.forEach((p, i) => {
          const [err, reply] = results?.[i] ?? [new Error('no reply in pipeline'), null];
          if (err) p.reject(err);
          else p.resolve(reply);
        });
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}
