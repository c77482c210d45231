/**
 * Messages on a gateway node's pub/sub channel. Pub/sub is only a doorbell: the command log
 * in Redis is the truth, so a lost message delays delivery until the next connect or
 * heartbeat-driven check but never loses a command.
 */
import { commandOf, withAppendedAt, type ClientCommand } from './client-command.ts';

export type NodeMessage =
  /**
   * These Clients have new commands in their logs. Lua scripts ring from inside (see
   * ringAppended in src/store/lua/includes/commands.lua) and carry the new commands by Client
   * as [seq, kind, arg, appendedAt ms], so the node can send them without reading the log.
   */
  | { t: 'cmd'; tenant: string; clients: string[]; cmds?: Map<string, ClientCommand[]> }
  /** This connection of the Client was replaced by a newer one elsewhere (SPEC C5). */
  | { t: 'supersede'; tenant: string; client: string; conn: string };

export function parseNodeMessage(raw: string): NodeMessage | null {
  try {
    const m = JSON.parse(raw) as Partial<NodeMessage> & Record<string, unknown>;
    if (m.t === 'cmd' && typeof m.tenant === 'string' && Array.isArray(m.clients)) {
      const cmds = carriedCommands(m.cmds);
      return { t: 'cmd', tenant: m.tenant, clients: m.clients.map(String), ...(cmds ? { cmds } : {}) };
    }
    if (m.t === 'supersede' && typeof m.tenant === 'string' && typeof m.client === 'string' && typeof m.conn === 'string') {
      return { t: 'supersede', tenant: m.tenant, client: m.client, conn: m.conn };
    }
  } catch {
    /* not JSON */
  }
  return null;
}

/** The commands a doorbell carries, by Client; undefined when absent or malformed (read the log then). */
function carriedCommands(raw: unknown): Map<string, ClientCommand[]> | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const out = new Map<string, ClientCommand[]>();
  for (const [clientId, list] of Object.entries(raw as Record<string, unknown>)) {
    if (!Array.isArray(list)) return undefined;
    const cmds: ClientCommand[] = [];
    for (const parts of list) {
      const cmd = Array.isArray(parts) ? commandOf(Number(parts[0]), String(parts[1]), String(parts[2] ?? '')) : null;
      if (!cmd) return undefined;
      // [3]: when it was appended (Redis TIME, ms), for the delivery latency (SPEC H4).
      if (typeof parts[3] === 'number') withAppendedAt(cmd, parts[3]);
      cmds.push(cmd);
    }
    out.set(clientId, cmds);
  }
  return out;
}

/** Connection tokens are `<nodeId>:<connId>`; node ids never contain ':'. */
export function nodeOfConn(connToken: string): string {
  const i = connToken.lastIndexOf(':');
  return i < 0 ? '' : connToken.slice(0, i);
}
