/**
 * Enrollment-token rotation and the one-time removal of cleartext tokens (SPEC Z2, T6).
 *
 * Rotation is an admin job (`tenant.rotateToken`): the caller makes the new token and sends
 * only its hash, so the cleartext never reaches Redis — not the tenant hash, not the job's
 * payload or its stored result (BullMQ keeps finished jobs a week). AdminClient and the CLI do
 * this; they print the token once. During the grace the previous token keeps enrolling
 * (hello-1.lua), so agents being installed with it can be switched over without a gap.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { hashSecret, SECRET_HASH } from '../auth/secrets.ts';
import { LicensegateError } from '../errors.ts';
import type { Keys } from '../store/keys.ts';
import type { RedisClient } from '../store/redis-connection.ts';
import { nowOf, runJsonScript, type LedgerContext } from './ledger-context.ts';
import { authorizeTenant, PERMISSIONS, type Actor } from './permissions.ts';

/** Longest grace a rotation may give the previous token (30 days). */
export const MAX_GRACE_MS = 30 * 86_400_000;

export interface RotationResult {
  tenantId: string;
  rotatedAt: number;
  /** Until when the previous token still enrolls; equal to rotatedAt when it died at once. */
  previousValidUntil: number;
}

/**
 * Makes `newTokenHash` the tenant's enrollment token. Who: the tenant's own admins or the
 * default tenant's (T6), with the client-installation permission (the token installs agents).
 * Idempotent by op id (a retried job returns its first reply).
 */
export async function rotateEnrollmentToken(
  ctx: LedgerContext,
  actor: Actor,
  tenantId: string,
  newTokenHash: string,
  graceMs: number,
  opId: string = randomUUID(),
): Promise<RotationResult> {
  if (!actor.permissions.includes(PERMISSIONS.clients)) throw new LicensegateError('FORBIDDEN', `rotating an enrollment token needs ${PERMISSIONS.clients}`);
  authorizeTenant(actor, tenantId, 'rotating an enrollment token');
  if (!SECRET_HASH.test(newTokenHash)) throw new LicensegateError('INVALID_ARGUMENT', 'the new token hash must be SHA-256 in lower-case hex');
  if (!Number.isSafeInteger(graceMs) || graceMs < 0 || graceMs > MAX_GRACE_MS) throw new LicensegateError('INVALID_ARGUMENT', 'grace must be 0 to 30 days');
  if ((await ctx.redis.sismember(ctx.keys.tenants(), tenantId)) === 0) throw new LicensegateError('UNKNOWN_TENANT', tenantId);
  const r = await runJsonScript<{ rotatedAt: number; previousValidUntil: number }>(ctx, 'rotateToken', tenantId, [newTokenHash, graceMs, nowOf(ctx), actor.userId, opId]);
  return { tenantId, rotatedAt: r.rotatedAt, previousValidUntil: r.previousValidUntil };
}

/** The hash to send for a token the caller made. */
export const enrollTokenHash = hashSecret;

/**
 * Start-up migration: versions before issue 11 kept each tenant's token in cleartext
 * (`enrollToken`) next to its hash. The hash is kept (made from the cleartext if it were
 * missing) and the cleartext deleted. Idempotent: a second run finds nothing. Runs once per
 * start over the tenant set (a few commands per tenant, none on a hot path). Returns how many
 * tenants it changed; logs the count (never a token).
 */
export async function removeCleartextTokens(redis: RedisClient, keys: Keys, logger?: Logger): Promise<number> {
  let changed = 0;
  for (const tenantId of await redis.smembers(keys.tenants())) {
    const key = keys.tenant(tenantId);
    const token = await redis.hget(key, 'enrollToken');
    if (token === null) continue;
    await redis.hsetnx(key, 'enrollTokenHash', hashSecret(token));
    await redis.hdel(key, 'enrollToken');
    changed++;
  }
  if (changed > 0) logger?.info({ tenants: changed }, 'removed cleartext enrollment tokens (only their hashes are kept)');
  return changed;
}
