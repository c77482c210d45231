/**
 * Repair of a Client's command log after Redis lost its last writes under a live connection
 * (SPEC F4, C7). A gateway connection knows the highest seq it sent; the stored seq can only
 * be below it if Redis forgot increments (restart from an older AOF, failover to a lagging
 * replica). The heartbeat flush compares the two for free (touch returns each Client's seq),
 * and this runs the repair script, which rechecks atomically, moves the counter past what was
 * sent and appends one command that restates the Client's state as Redis holds it.
 */
import type { RedisClient } from '../store/redis-connection.ts';
import { LicensegateError } from '../errors.ts';
import type { Keys } from '../store/keys.ts';
import { runScript } from '../store/scripts.ts';

/**
 * Returns the seq of the restating command, or 0 when nothing was lost after all (a command
 * appended since the flush read the seq). Throws CLIENT_NOT_FOUND when Redis lost the Client.
 */
export async function repairLostCommands(redis: RedisClient, keys: Keys, tenantId: string, clientId: string, sentSeq: number): Promise<number> {
  const reply = (await runScript(redis, 'repairSeq', [keys.tenant(tenantId)], [keys.tenantBase(tenantId), clientId, sentSeq])) as unknown[];
  if (reply[0] !== 'OK') throw new LicensegateError(reply[0] === 'CLIENT_NOT_FOUND' ? 'CLIENT_NOT_FOUND' : 'INTERNAL_ERROR', clientId);
  return Number(reply[1]);
}
