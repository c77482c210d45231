/**
 * Gateway node liveness (SPEC C4, F1). Each node beats into a sorted set; any node reaps nodes
 * that stopped beating, marking their Clients offline with the dead node's last beat as
 * last-seen. Reaping is idempotent, so several nodes may do it at once.
 *
 * Every beat is stamped with Redis `TIME` inside a script, and the reap decision is taken in
 * the same script against the same clock: host clocks may be skewed by any amount and never
 * decide who is dead. What remains is a node wrongly declared dead because it, or Redis, was
 * away for longer than the timeout (a Redis pause, an event-loop stall). Three things keep that
 * from lasting (docs/presence.md):
 * - a node whose own previous beat was older than the timeout does not reap in that round:
 *   whatever kept it away (most often Redis itself) kept the others away too, and they get one
 *   beat to come back;
 * - a reaper re-reads the dead node's beat before every chunk of Clients it marks offline, and
 *   stops as soon as the node has beaten again; it removes the node only if it has not;
 * - a node that finds itself reaped re-registers every live connection it holds (`rejoined`),
 *   for one node timeout after it finds out, so that a reap still in flight cannot win.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../store/redis-connection.ts';
import { DEFAULT_TENANT, type Keys } from '../store/keys.ts';
import { runScript, type ScriptName } from '../store/scripts.ts';
import type { DisconnectEntry, SessionStore } from './session-store.ts';

export function newNodeId(): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40);
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export interface DeadNode {
  node: string;
  /** Its last beat (Redis ms): the last-seen its Clients get. */
  lastBeat: number;
}

export interface Beat {
  /** Redis TIME of this beat (ms). */
  now: number;
  /** Age of this node's previous beat (ms); 0 on its first beat. */
  previousAgeMs: number;
  /**
   * This node had been declared dead, or could have been: its entry was gone, or its previous
   * beat older than the timeout. It must re-register its live connections.
   */
  rejoined: boolean;
  /** This node may reap `dead` in this round (its own beats were on time). */
  mayReap: boolean;
  /** Other nodes whose last beat is older than the timeout. */
  dead: DeadNode[];
}

/** Online records read from Redis per round trip while reaping. */
const REAP_SCAN_COUNT = 1000;

export class NodeRegistry {
  private joined = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly sessions: SessionStore,
    readonly nodeId: string,
    private readonly timeoutMs: number,
  ) {}

  private script(name: ScriptName, args: (string | number)[]): Promise<unknown> {
    // The shared script prelude derives the key prefix from a tenant base; these scripts use
    // only KEYS[1], the node registry.
    return runScript(this.redis, name, [this.keys.nodes()], [this.keys.tenantBase(DEFAULT_TENANT), ...args]);
  }

  /** Records that this node is alive (at Redis TIME) and lists the nodes that are not. */
  async beat(): Promise<Beat> {
    const reply = (await this.script('nodeBeat', [this.nodeId, this.timeoutMs])) as (string | number)[];
    const now = Number(reply[0]);
    const previous = Number(reply[1]);
    const first = !this.joined;
    this.joined = true;
    const previousAgeMs = previous < 0 ? (first ? 0 : Infinity) : now - previous;
    const onTime = previousAgeMs <= this.timeoutMs;
    const dead: DeadNode[] = [];
    for (let i = 2; i + 1 < reply.length; i += 2) {
      const node = String(reply[i]);
      if (node !== this.nodeId) dead.push({ node, lastBeat: Number(reply[i + 1]) });
    }
    return { now, previousAgeMs, rejoined: !first && !onTime, mayReap: first || onTime, dead };
  }

  async leave(): Promise<void> {
    await this.redis.zrem(this.keys.nodes(), this.nodeId);
  }

  /** Reaps the given dead nodes. Returns the Clients marked offline. */
  async reap(dead: DeadNode[]): Promise<number> {
    let marked = 0;
    for (const d of dead) {
      const r = await this.markNodeOffline(d);
      marked += r.marked;
      if (r.complete) await this.script('nodeForget', [d.node, d.lastBeat]);
    }
    return marked;
  }

  /** The node has not beaten since `lastBeat` (nor been removed by another reaper). */
  private async stillDead(d: DeadNode): Promise<boolean> {
    const score = await this.redis.zscore(this.keys.nodes(), d.node);
    return score !== null && Number(score) === d.lastBeat;
  }

  /**
   * Marks the dead node's Clients offline, tenant by tenant in chunks (HSCAN: a rare,
   * periodic path, never a hot one). Stops when the node turns out to be alive after all.
   */
  private async markNodeOffline(d: DeadNode): Promise<{ marked: number; complete: boolean }> {
    const prefix = `${d.node}:`;
    let marked = 0;
    for (const tenantId of await this.redis.smembers(this.keys.tenants())) {
      let cursor = '0';
      do {
        const [next, flat] = await this.redis.hscan(this.keys.online(tenantId), cursor, 'COUNT', REAP_SCAN_COUNT);
        cursor = next;
        const entries: DisconnectEntry[] = [];
        for (let i = 0; i < flat.length; i += 2) {
          if (flat[i + 1]!.startsWith(prefix)) entries.push({ tenantId, clientId: flat[i]!, connToken: flat[i + 1]!, lastSeen: d.lastBeat });
        }
        if (entries.length === 0) continue;
        if (!(await this.stillDead(d))) return { marked, complete: false };
        // Clients promoted to licenses freed here (C12) are rung by the disconnect script.
        await this.sessions.disconnectMany(entries);
        marked += entries.length;
      } while (cursor !== '0');
    }
    return { marked, complete: true };
  }
}
