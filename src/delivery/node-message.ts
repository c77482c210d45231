/**
 * Messages on a gateway node's pub/sub channel. Pub/sub is only a doorbell: the command log
 * in Redis is the truth, so a lost message delays delivery until the next connect or
 * heartbeat-driven check but never loses a command.
 */
export type NodeMessage =
  /** These Clients have new commands in their logs. */
  | { t: 'cmd'; tenant: string; clients: string[] }
  /** This connection of the Client was replaced by a newer one elsewhere (SPEC C5). */
  | { t: 'supersede'; tenant: string; client: string; conn: string };

export function parseNodeMessage(raw: string): NodeMessage | null {
  try {
    const m = JSON.parse(raw) as Partial<NodeMessage> & Record<string, unknown>;
    if (m.t === 'cmd' && typeof m.tenant === 'string' && Array.isArray(m.clients)) {
      return { t: 'cmd', tenant: m.tenant, clients: m.clients.map(String) };
    }
    if (m.t === 'supersede' && typeof m.tenant === 'string' && typeof m.client === 'string' && typeof m.conn === 'string') {
      return { t: 'supersede', tenant: m.tenant, client: m.client, conn: m.conn };
    }
  } catch {
    /* not JSON */
  }
  return null;
}

/** Connection tokens are `<nodeId>:<connId>`; node ids never contain ':'. */
export function nodeOfConn(connToken: string): string {
  const i = connToken.lastIndexOf(':');
  return i < 0 ? '' : connToken.slice(0, i);
}
