/**
 * Gateway node liveness (SPEC C4): each node beats into a sorted set; any node reaps nodes
 * that stopped beating, marking their Clients offline with the dead node's last beat as
 * last-seen. Reaping is idempotent, so several nodes may do it at once.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { wallClock } from '../clock.ts';
import type { Keys } from '../store/keys.ts';
import type { SessionStore } from './session-store.ts';

export function newNodeId(): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40);
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export class NodeRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly sessions: SessionStore,
    readonly nodeId: string,
    private readonly timeoutMs: number,
  ) {}

  async beat(now = wallClock()): Promise<void> {
    await this.redis.zadd(this.keys.nodes(), now, this.nodeId);
  }

  async leave(): Promise<void> {
    await this.redis.zrem(this.keys.nodes(), this.nodeId);
  }

  /** Reaps every node silent for longer than the timeout. Returns the Clients marked offline. */
  async reapDead(now = wallClock()): Promise<number> {
    const dead = await this.redis.zrangebyscore(this.keys.nodes(), '-inf', now - this.timeoutMs, 'WITHSCORES');
    let marked = 0;
    for (let i = 0; i < dead.length; i += 2) {
      const node = dead[i]!;
      if (node === this.nodeId) continue;
      const lastBeat = Number(dead[i + 1]);
      marked += await this.markNodeOffline(node, lastBeat);
      await this.redis.zrem(this.keys.nodes(), node);
    }
    return marked;
  }

  private async markNodeOffline(node: string, lastSeen: number): Promise<number> {
    const prefix = `${node}:`;
    let marked = 0;
    for (const tenantId of await this.redis.smembers(this.keys.tenants())) {
      let cursor = '0';
      do {
        const [next, flat] = await this.redis.hscan(this.keys.online(tenantId), cursor, 'COUNT', 1000);
        cursor = next;
        const entries: { tenantId: string; clientId: string; connToken: string; lastSeen: number }[] = [];
        for (let i = 0; i < flat.length; i += 2) {
          if (flat[i + 1]!.startsWith(prefix)) entries.push({ tenantId, clientId: flat[i]!, connToken: flat[i + 1]!, lastSeen });
        }
        // Clients promoted to licenses freed here (C12) are rung by the disconnect script.
        await this.sessions.disconnectMany(entries);
        marked += entries.length;
      } while (cursor !== '0');
    }
    return marked;
  }
}
