/**
 * A Client's durable command log (SPEC C7): a Redis stream per Client with entry ids
 * `0-<seq>`, fields k (kind) and a (argument). Appended by Lua scripts, trimmed only up to the
 * Client's acknowledged seq, replayed after Hello.last_acked_seq, read again on a doorbell.
 */
import type { RedisClient } from '../store/redis-connection.ts';
import { isEndpointLicenseType, type EndpointLicenseType } from '../licensing/license-types.ts';
import type { Keys } from '../store/keys.ts';

export type ClientCommand = (
  | { seq: number; kind: 'start'; licenseType: EndpointLicenseType }
  | { seq: number; kind: 'stop'; reason: string }
  | { seq: number; kind: 'uninstall' }
) & {
  /** When it was appended (Redis TIME, ms; field `t`): the delivery latency's start (SPEC H4). Absent in older entries. */
  appendedAt?: number;
};

/** XRANGE reply entry: [id, [field, value, ...]]. */
export type StreamEntry = [string, string[]];

export function parseCommandEntry(entry: StreamEntry): ClientCommand {
  const [id, fields] = entry;
  const seq = Number(id.slice(id.indexOf('-') + 1));
  let kind = '';
  let arg = '';
  let at = '';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'k') kind = fields[i + 1]!;
    else if (fields[i] === 'a') arg = fields[i + 1]!;
    else if (fields[i] === 't') at = fields[i + 1]!;
  }
  const cmd = commandOf(seq, kind, arg);
  if (!cmd) throw new Error(`corrupt command log entry ${id}: ${JSON.stringify(fields)}`);
  if (at !== '') withAppendedAt(cmd, Number(at));
  return cmd;
}

/** A command from its parts (a log entry's, or a doorbell's copy); null when they make none. */
export function commandOf(seq: number, kind: string, arg: string): ClientCommand | null {
  if (!Number.isSafeInteger(seq) || seq < 1) return null;
  if (kind === 'start' && isEndpointLicenseType(arg)) return { seq, kind, licenseType: arg };
  if (kind === 'stop') return { seq, kind, reason: arg };
  if (kind === 'uninstall') return { seq, kind };
  return null;
}

/** Records when the command was appended, if `at` is a plausible time in ms. */
export function withAppendedAt(cmd: ClientCommand, at: number): ClientCommand {
  if (Number.isSafeInteger(at) && at > 0) cmd.appendedAt = at;
  return cmd;
}

/** Commands with seq > afterSeq, oldest first, at most `max`. */
export async function readCommandsAfter(
  redis: RedisClient,
  keys: Keys,
  tenantId: string,
  clientId: string,
  afterSeq: number,
  max = 1000,
): Promise<ClientCommand[]> {
  const entries = (await redis.xrange(keys.commands(tenantId, clientId), `(0-${afterSeq}`, '+', 'COUNT', max)) as StreamEntry[];
  return entries.map(parseCommandEntry);
}
