/**
 * How a route turns its request into an admin job call (SPEC A1–A4): the principal's actor (the
 * worker re-checks its permissions: the API is never the only check) and the Idempotency-Key
 * mapped to the job id.
 *
 * The job id is `api.` + SHA-256(accountId NUL key) (hex, 40 characters): two accounts that send
 * the same key get two jobs, and one account's retry gets its first job's result (A3). Without
 * the header every request is a new job (a random id). docs/api.md documents the mapping.
 */
import { createHash } from 'node:crypto';
import { LicensegateError } from '../../errors.ts';
import { authorizeTenant, type Actor } from '../../licensing/permissions.ts';
import type { Principal } from '../principal.ts';

/** The admin job id an account's Idempotency-Key maps to. */
export function apiJobId(accountId: string, idempotencyKey: string): string {
  return `api.${createHash('sha256').update(`${accountId}\0${idempotencyKey}`).digest('hex').slice(0, 40)}`;
}

/** The principal of an authenticated route (the router guarantees one for auth 'account'). */
export function principalOf(ctx: { principal: Principal | null }): Principal {
  if (!ctx.principal) throw new LicensegateError('UNAUTHENTICATED');
  return ctx.principal;
}

/**
 * What every admin job call of a route passes: actor and (when sent) the mapped idempotency key.
 * Two refusals happen here, before anything is queued: a read-only account (no permission; every
 * admin job needs one) and another tenant's resource (T6; every job on a tenant needs its scope).
 * Both are necessary conditions of every job, so this never refuses what the worker would
 * allow; the worker then checks the exact permissions (A2) — the API is not the only check.
 */
export function jobInput(ctx: { principal: Principal | null; idempotencyKey: string | undefined; params?: unknown }): { actor: Actor; idempotencyKey?: string } {
  const p = principalOf(ctx);
  if (p.actor.permissions.length === 0) throw new LicensegateError('FORBIDDEN', `account ${p.accountId} is read-only (it holds no permission)`);
  const tenantId = (ctx.params as { tenantId?: unknown } | undefined)?.tenantId;
  if (typeof tenantId === 'string') authorizeTenant(p.actor, tenantId, `changing tenant ${tenantId}`);
  return ctx.idempotencyKey === undefined ? { actor: p.actor } : { actor: p.actor, idempotencyKey: apiJobId(p.accountId, ctx.idempotencyKey) };
}
