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
  const byNode = new Map<string, string[]>();
  conns.forEach((conn, i) => {
    if (!conn) return; // offline: gets its commands at next connect
    const node = nodeOfConn(conn);
    const list = byNode.get(node) ?? [];
    list.push(clientIds[i]!);
    byNode.set(node, list);
  });
  await Promise.all(
    [...byNode].map(([node, clients]) => {
      const msg: NodeMessage = { t: 'cmd', tenant: tenantId, clients };
      return redis.publish(keys.nodeChannel(node), JSON.stringify(msg));
    }),
  );
}
