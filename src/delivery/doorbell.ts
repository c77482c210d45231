/**
 * Rings the gateway nodes that hold Clients with new commands (SPEC C7). Looks up each
 * Client's current connection in its tenant's online hash and publishes one message per node.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys.ts';
import { nodeOfConn, type NodeMessage } from './node-message.ts';

export async function ringClients(redis: Redis, keys: Keys, tenantId: string, clientIds: string[]): Promise<void> {
  if (clientIds.length === 0) return;
  const conns = await redis.hmget(keys.online(tenantId), ...clientIds);
  // Offline Clients are skipped: they get their commands at their next connect.
  await ringConnections(redis, keys, tenantId, clientIds.flatMap((id, i) => (conns[i] ? [[id, conns[i]] as [string, string]] : [])));
}

/** Rings the nodes of Clients whose connections a script already looked up (no extra round trip). */
export async function ringConnections(redis: Redis, keys: Keys, tenantId: string, pairs: [clientId: string, conn: string][]): Promise<void> {
  // Lua's cjson encodes an empty list as {}: nothing to ring then.
  if (!Array.isArray(pairs) || pairs.length === 0) return;
  const byNode = new Map<string, string[]>();
  for (const [clientId, conn] of pairs) {
    const node = nodeOfConn(conn);
    const list = byNode.get(node) ?? [];
    list.push(clientId);
    byNode.set(node, list);
  }
  await Promise.all(
    [...byNode].map(([node, clients]) => {
      const msg: NodeMessage = { t: 'cmd', tenant: tenantId, clients };
      return redis.publish(keys.nodeChannel(node), JSON.stringify(msg));
    }),
  );
}
