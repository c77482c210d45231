/**
 * The doorbell subscriptions of one gateway node (SPEC C7, C5): sharded pub/sub, one channel per
 * tenant and node, `<prefix>:{t:<tenant>}:node:<nodeId>` (Keys.doorbellChannel).
 *
 * Why sharded: on a Redis Cluster a PUBLISH is broadcast over the cluster bus to every node,
 * whatever the channel; an SPUBLISH stays in the shard that owns the channel's slot. The Lua
 * scripts that ring (ringAppended, reregister-1.lua) run in the tenant's slot, so the channel
 * carries the tenant's hash tag and the script SPUBLISHes in its own slot. Measured on 3 masters
 * + 3 replicas: about half the Redis CPU per doorbell (docs/redis-modes.md). On a single Redis
 * (7.0+) SSUBSCRIBE/SPUBLISH behave like SUBSCRIBE/PUBLISH: one code path for both.
 *
 * When: the node subscribes to a tenant's channel before the first Hello of that tenant on this
 * node is sent to Redis (acquire), so a doorbell rung for a connection this Hello records can
 * only arrive after the subscription; the durable log stays the truth anyway (a lost doorbell is
 * repaired by the last-seen flush). It keeps the subscription while it holds connections of the
 * tenant, and drops it at the next sweep (every reconciliation interval) after the last one
 * closed: unknown or hostile tenant ids in Hellos cannot pile subscriptions up beyond what one
 * interval of handshakes allows, and a tenant whose agents reconnect does not churn.
 */
import type { Logger } from 'pino';
import type { Keys } from '../store/keys.ts';
import { duplicateClient, type RedisClient } from '../store/redis-connection.ts';

interface Subscription {
  /** Connections of the tenant on this node that asked for it. */
  refs: number;
  /** Resolves once Redis confirmed the SSUBSCRIBE. */
  ready: Promise<void>;
}

export class DoorbellChannels {
  private subscriber: RedisClient | undefined;
  private readonly subs = new Map<string, Subscription>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly nodeId: string,
    private readonly onMessage: (raw: string) => void,
    private readonly log: Logger,
  ) {}

  /** Opens the subscriber connection (a Cluster with one sharded subscriber per master). */
  start(): void {
    const sub = duplicateClient(this.redis, `licensegate:node:${this.nodeId}`);
    sub.on('error', (err: unknown) => this.log.error({ err }, 'doorbell connection error'));
    sub.on('smessage', (_channel: string, raw: string) => this.onMessage(raw));
    this.subscriber = sub;
  }

  /** Subscribes to the tenant's doorbell (once per tenant) and counts one more user of it. */
  async acquire(tenantId: string): Promise<void> {
    let s = this.subs.get(tenantId);
    if (!s) {
      const ready = this.subscriber!.ssubscribe(this.keys.doorbellChannel(tenantId, this.nodeId)).then(() => undefined);
      s = { refs: 0, ready };
      this.subs.set(tenantId, s);
      // A failed SSUBSCRIBE is forgotten, so that the next Hello of the tenant tries again.
      ready.catch(() => {
        if (this.subs.get(tenantId) === s) this.subs.delete(tenantId);
      });
    }
    s.refs++;
    try {
      await s.ready;
    } catch (err) {
      s.refs--;
      throw err;
    }
  }

  /** One user fewer (a connection that acquired closed). */
  release(tenantId: string): void {
    const s = this.subs.get(tenantId);
    if (s && s.refs > 0) s.refs--;
  }

  /** Drops the subscriptions no connection uses any more (periodic). */
  sweep(): void {
    for (const [tenantId, s] of this.subs) {
      if (s.refs > 0) continue;
      this.subs.delete(tenantId);
      s.ready
        .then(() => this.subscriber!.sunsubscribe(this.keys.doorbellChannel(tenantId, this.nodeId)))
        .catch((err: unknown) => this.log.warn({ err, tenant: tenantId }, 'could not drop a doorbell subscription'));
    }
  }

  /** Tenants this node is subscribed to (tests read it). */
  get tenants(): string[] {
    return [...this.subs.keys()];
  }

  stop(): void {
    this.subscriber?.disconnect();
  }
}
