/**
 * The periodic last-seen flush of one gateway node: the Clients whose connections sent a frame
 * since the last flush get their last-seen time written in batches (SessionStore.touch), and the
 * reply's newest command seqs repair lost doorbells (C7): a log that grew past what a connection
 * was sent is delivered now; one that shrank below it (Redis lost writes, F4) is repaired.
 */
import { connectionKey, type AgentConnection } from './agent-connection.ts';
import type { CommandDelivery } from './command-delivery.ts';
import type { SessionStore } from './session-store.ts';

export async function flushLastSeen(byClient: ReadonlyMap<string, AgentConnection>, sessions: SessionStore, delivery: CommandDelivery): Promise<void> {
  const byTenant = new Map<string, string[]>();
  for (const conn of byClient.values()) {
    if (!conn.seenDirty) continue;
    conn.seenDirty = false;
    const list = byTenant.get(conn.tenantId) ?? [];
    list.push(conn.clientId);
    byTenant.set(conn.tenantId, list);
  }
  const seqs = await sessions.touch(byTenant);
  for (const [tenantId, bySeq] of seqs) {
    for (const [clientId, seq] of bySeq) {
      const conn = byClient.get(connectionKey(tenantId, clientId));
      if (conn && conn.state === 'live' && seq > conn.lastSentSeq) void delivery.deliver(conn);
      else if (conn && conn.state === 'live' && seq < conn.lastSentSeq) void delivery.repairLostCommands(conn);
    }
  }
}
