/**
 * Makes the online records in Redis match the sockets this gateway node really holds (SPEC F1,
 * C4, C5). Runs periodically (RECONCILE_INTERVAL_MS) and, after the node finds it was reaped,
 * the re-registration part at every node beat for one node timeout.
 *
 * - Orphans: a record that names a connection of this node that is not open (its disconnect
 *   was lost, or a Hello's reply was), or a connection of a node that is not in the registry at
 *   all, is removed with the token-guarded disconnect script. Found by HSCAN of each tenant's
 *   online hash in bounded chunks: a periodic, non-hot path (never on Hello, ack or flush).
 * - Missing: every live connection is re-registered (reregister-1.lua): a no-op when its record
 *   is in place; re-added when it went missing, or taken back from an older connection named in
 *   it (Redis lost this connection's Hello); closed with SUPERSEDED when a newer connection
 *   has held the record for at least one reconciliation interval (a supersede whose doorbell
 *   was lost): the holder's node has had a whole round to remove the record if it is an orphan
 *   (a Hello that ran after its socket was gone), so a live connection is never closed for a
 *   record nobody backs. Newer = higher epoch.
 *
 * So no record can be wrong for longer than one interval while its node lives; a dead node's
 * records are the reaper's (node timeout).
 */
import type { RedisClient } from '../store/redis-connection.ts';
import type { Logger } from 'pino';
import { nodeOfConn } from '../delivery/node-message.ts';
import type { Keys } from '../store/keys.ts';
import type { AgentConnection } from './agent-connection.ts';
import type { DisconnectEntry, SessionStore } from './session-store.ts';

/** What the reconciler needs of the node that owns it. */
export interface HeldConnections {
  /** Every open connection of the node (any state), by token. */
  readonly connections: ReadonlyMap<string, AgentConnection>;
  /** The node's current connection of each Client. */
  readonly byClient: ReadonlyMap<string, AgentConnection>;
  /** Closes a live connection that a newer one replaced (C5). */
  supersede(conn: AgentConnection, why: string): void;
}

export interface ReconcileReport {
  /** Orphan records removed. */
  removed: number;
  /** Live connections whose missing record was restored. */
  added: number;
  /** Live connections closed because another connection holds, or held, their record. */
  superseded: number;
}

/** Online records read per HSCAN round trip. */
const SCAN_COUNT = 500;
/** Live connections re-registered per script call (one tenant slot each). */
const REREGISTER_CHUNK = 100;

export class PresenceReconciler {
  /** Live connections a newer connection's record shadows, and since when (ms). */
  private shadowed = new Map<string, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly sessions: SessionStore,
    private readonly nodeId: string,
    private readonly held: HeldConnections,
    private readonly log: Logger,
    /** How long a record must shadow a live connection before it is closed: one reconciliation interval. */
    private readonly shadowGraceMs: number,
  ) {}

  async reconcile(): Promise<ReconcileReport> {
    const removed = await this.removeOrphans();
    const { added, superseded } = await this.reregisterLive();
    return { removed, added, superseded };
  }

  /** Removes the records no open connection backs: this node's, and those of unregistered nodes. */
  async removeOrphans(): Promise<number> {
    let removed = 0;
    const nodeAlive = new Map<string, boolean>([[this.nodeId, true]]);
    for (const tenantId of await this.redis.smembers(this.keys.tenants())) {
      let cursor = '0';
      do {
        const [next, flat] = await this.redis.hscan(this.keys.online(tenantId), cursor, 'COUNT', SCAN_COUNT);
        cursor = next;
        const orphans: DisconnectEntry[] = [];
        for (let i = 0; i < flat.length; i += 2) {
          const clientId = flat[i]!;
          const token = flat[i + 1]!;
          const node = nodeOfConn(token);
          if (node === this.nodeId) {
            // Decided now, after the read: a token is in `connections` from the socket's open
            // to its close, so one that is absent now never becomes live again.
            if (!this.held.connections.has(token)) orphans.push({ tenantId, clientId, connToken: token });
            continue;
          }
          let alive = nodeAlive.get(node);
          if (alive === undefined) {
            // Asked after the record was read: a node beats before it takes any connection.
            alive = (await this.redis.zscore(this.keys.nodes(), node)) !== null;
            nodeAlive.set(node, alive);
          }
          if (!alive) orphans.push({ tenantId, clientId, connToken: token });
        }
        if (orphans.length > 0) {
          await this.sessions.disconnectMany(orphans);
          removed += orphans.length;
        }
      } while (cursor !== '0');
    }
    if (removed > 0) this.log.warn({ removed }, 'presence reconciliation removed online records no open connection backs');
    return removed;
  }

  /**
   * Re-registers every live connection (token-guarded). Connections that closed while their
   * record was being restored are marked offline again, so a restore never outlives its socket.
   */
  async reregisterLive(): Promise<{ added: number; superseded: number }> {
    const byTenant = new Map<string, AgentConnection[]>();
    for (const conn of this.held.byClient.values()) {
      if (conn.state !== 'live') continue;
      const list = byTenant.get(conn.tenantId) ?? [];
      list.push(conn);
      byTenant.set(conn.tenantId, list);
    }
    let added = 0;
    let superseded = 0;
    const now = Date.now();
    const shadowedNow = new Map<string, number>();
    for (const [tenantId, conns] of byTenant) {
      for (let i = 0; i < conns.length; i += REREGISTER_CHUNK) {
        const part = conns.slice(i, i + REREGISTER_CHUNK);
        const results = await this.sessions.reregister(tenantId, part.map((c) => ({ clientId: c.clientId, connToken: c.token, epoch: c.epoch })));
        const undo: DisconnectEntry[] = [];
        part.forEach((conn, j) => {
          const result = results[j];
          if (result === 'added') {
            added++;
            if (conn.state === 'closed') undo.push({ tenantId, clientId: conn.clientId, connToken: conn.token });
          } else if (result === 'superseded' && conn.state === 'live') {
            const since = this.shadowed.get(conn.token) ?? now;
            if (now - since < this.shadowGraceMs) shadowedNow.set(conn.token, since);
            else {
              superseded++;
              this.held.supersede(conn, 'a newer connection has held the online record for a reconciliation interval');
            }
          }
        });
        await this.sessions.disconnectMany(undo);
      }
    }
    this.shadowed = shadowedNow;
    if (added > 0 || superseded > 0) this.log.warn({ added, superseded }, 'presence re-registration restored or closed connections');
    return { added, superseded };
  }
}
