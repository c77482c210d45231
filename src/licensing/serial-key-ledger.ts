/**
 * Serial keys in the ledger (SPEC S2–S5): activation into the default tenant, removal, and
 * expiry — a saga that withdraws the key's licenses tenant by tenant (each step one atomic,
 * idempotent script), then marks the key ended. Affected Clients get StopMonitoring through
 * their command logs and are rung; waiting Clients get freed licenses (C9).
 */
import { emitEvent } from '../events/admin-events.ts';
import { LicensegateError } from '../errors.ts';
import { DEFAULT_TENANT } from '../store/keys.ts';
import { idsOf, nowOf, runJsonScript, type LedgerContext } from './ledger-context.ts';
import type { LicenseTypeName } from './license-types.ts';
import { onceByOp } from './op-results.ts';
import { withdrawKey } from './batched-steps.ts';
import { authorizeSystem, SYSTEM_ACTOR, type Actor } from './permissions.ts';
import { drainPromotions } from './promotion.ts';
import { serialKeyExpiresAtMs, verifySerialKey, type SerialKeyPayload } from './serial-key.ts';

export type SerialKeyStatus = 'active' | 'expiring' | 'removing' | 'expired' | 'removed';

export interface SerialKeyRecord {
  payload: SerialKeyPayload;
  key: string;
  status: SerialKeyStatus;
  activatedAt: number;
  endedAt?: number;
}

export interface ActivationResult {
  keyId: string;
  status: 'ACTIVATED' | 'ALREADY_ACTIVE';
  /** Trial keys this purchased key expired (S2). */
  expiredTrials: string[];
}

/**
 * Verifies and activates a serial key (S1, S2). Two steps: the Lua step (idempotent by op id:
 * a retry gets its first reply, key.activated included) and post-steps that are idempotent by
 * themselves and so always run again — promote waiting Clients, schedule the expiry, end the
 * trials this key replaces.
 * A job retried after a crash anywhere therefore finishes the activation exactly once (F3).
 */
export async function activateSerialKey(ctx: LedgerContext, actor: Actor, keyString: string, cause = 'serial.activate', opId = ''): Promise<ActivationResult> {
  const { keyId, status, trials, payload } = await activateKeyStep(ctx, actor, keyString, cause, opId);
  // Waiting Clients get the new licenses in bounded batches (F6); a crash leaves the rest to the upkeep.
  await drainPromotions(ctx, DEFAULT_TENANT, { actorId: actor.userId, cause });
  if (status === 'ACTIVATED') {
    const expiresAt = serialKeyExpiresAtMs(payload) ?? 0;
    if (expiresAt > 0) await ctx.scheduler?.scheduleKey(payload.keyId, expiresAt);
    for (const trial of trials) await endSerialKey(ctx, trial, 'expired', actor.userId, `trial ended by ${payload.keyId}`);
  }
  return { keyId, status, expiredTrials: status === 'ACTIVATED' ? trials : [] };
}

/** The Lua step of an activation, exported so tests can stop an activation right after it. */
export async function activateKeyStep(ctx: LedgerContext, actor: Actor, keyString: string, cause: string, opId = ''): Promise<{ keyId: string; status: ActivationResult['status']; trials: string[]; payload: SerialKeyPayload }> {
  authorizeSystem(actor, 'activating a serial key');
  if (ctx.vendorKeys.length === 0) throw new LicensegateError('VENDOR_KEYS_MISSING');
  const payload = verifySerialKey(keyString, ctx.vendorKeys);
  const expiresAt = serialKeyExpiresAtMs(payload) ?? 0;
  const now = nowOf(ctx);
  const licenses = Object.entries(payload.licenses).flatMap(([t, n]) => [t, n ?? 0]);
  const reply = await runJsonScript<{ status: ActivationResult['status']; trials: unknown; promoted: unknown }>(ctx, 'activateKey', DEFAULT_TENANT, [
    payload.keyId,
    JSON.stringify({ payload, key: keyString.replace(/\s+/g, '') }),
    expiresAt,
    now,
    actor.userId,
    cause,
    opId,
    ...licenses,
  ]);
  return { keyId: payload.keyId, status: reply.status, trials: idsOf(reply.trials), payload };
}

/** Removes a key: its licenses are unassigned as on expiry (reason KEY_REMOVED). A retry with the same op id returns the first result. */
export async function removeSerialKey(ctx: LedgerContext, actor: Actor, keyId: string, cause = 'serial.remove', opId = ''): Promise<{ keyId: string; lost: number }> {
  authorizeSystem(actor, 'removing a serial key');
  return onceByOp(ctx, DEFAULT_TENANT, opId, async () => ({ keyId, lost: await endSerialKey(ctx, keyId, 'removed', actor.userId, cause) }));
}

/**
 * Ends a key (expiry or removal). Saga: mark it ending, withdraw it from every tenant holding
 * grants from it and from the default tenant, then mark it ended (dropping its grants). Every
 * step is idempotent, so running it again after a crash finishes the job. Returns how many
 * licenses were unassigned.
 */
export async function endSerialKey(ctx: LedgerContext, keyId: string, end: 'expired' | 'removed', actorId = SYSTEM_ACTOR, cause = `expiry:${keyId}`): Promise<number> {
  const now = nowOf(ctx);
  const ending = end === 'expired' ? 'expiring' : 'removing';
  const mark = await runJsonScript<{ status: SerialKeyStatus; tenants: unknown }>(ctx, 'keyStatus', DEFAULT_TENANT, [keyId, ending, now, actorId, cause]);
  if (mark.status === 'expired' || mark.status === 'removed') return 0;
  const reason = end === 'expired' ? 'KEY_EXPIRED' : 'KEY_REMOVED';
  let lost = 0;
  // Each tenant's withdrawal runs in bounded batches (F6); then the licenses it freed go to
  // waiting Clients, once the key is marked ended.
  const tenants = [...idsOf(mark.tenants), DEFAULT_TENANT];
  for (const tenantId of tenants) lost += await withdrawKey(ctx, tenantId, keyId, reason, now, actorId, cause);
  await runJsonScript(ctx, 'keyStatus', DEFAULT_TENANT, [keyId, end, nowOf(ctx), actorId, cause]);
  for (const tenantId of tenants) await drainPromotions(ctx, tenantId, { actorId, cause });
  await emitEvent(ctx.redis, ctx.keys, DEFAULT_TENANT, end === 'expired' ? 'key.expired' : 'key.removed', { keyId, unassigned: lost }, now);
  return lost;
}

export async function listSerialKeys(ctx: LedgerContext): Promise<SerialKeyRecord[]> {
  const all = await ctx.redis.hgetall(ctx.keys.serials());
  return Object.values(all)
    .map((raw) => JSON.parse(raw) as SerialKeyRecord)
    .sort((a, b) => a.activatedAt - b.activatedAt || a.payload.keyId.localeCompare(b.payload.keyId));
}

/**
 * Ends every key whose expiry has passed and every key left half-ended by a crash (start-up
 * and the scheduler's safety net, S4). Returns the key ids it ended.
 */
export async function expireDueKeys(ctx: LedgerContext): Promise<string[]> {
  const now = nowOf(ctx);
  const ended: string[] = [];
  for (const rec of await listSerialKeys(ctx)) {
    const exp = serialKeyExpiresAtMs(rec.payload);
    const due = (rec.status === 'active' && exp !== null && exp <= now) || rec.status === 'expiring';
    if (due) {
      await endSerialKey(ctx, rec.payload.keyId, 'expired');
      ended.push(rec.payload.keyId);
    } else if (rec.status === 'removing') {
      await endSerialKey(ctx, rec.payload.keyId, 'removed');
      ended.push(rec.payload.keyId);
    }
  }
  return ended;
}

/** Keys whose S5 warning (15 days / 1 day before expiry) is due at `now`. */
export function warningsDue(rec: SerialKeyRecord, now: number): ('15d' | '1d')[] {
  const exp = serialKeyExpiresAtMs(rec.payload);
  if (rec.status !== 'active' || exp === null || exp <= now) return [];
  const left = exp - now;
  const out: ('15d' | '1d')[] = [];
  if (left <= 15 * 86_400_000) out.push('15d');
  if (left <= 86_400_000) out.push('1d');
  return out;
}

/** S5: tells admin services a key expires soon. */
export async function warnKeyExpiring(ctx: LedgerContext, keyId: string, warning: '15d' | '1d'): Promise<void> {
  const raw = await ctx.redis.hget(ctx.keys.serials(), keyId);
  if (!raw) return;
  const rec = JSON.parse(raw) as SerialKeyRecord;
  if (rec.status !== 'active') return;
  await emitEvent(ctx.redis, ctx.keys, DEFAULT_TENANT, 'key.expiring', { keyId, warning, expiresAt: rec.payload.expiresAt ?? null }, nowOf(ctx));
}

/** Sum of licenses per type over active keys. */
export function totalsOf(records: SerialKeyRecord[]): Partial<Record<LicenseTypeName, number>> {
  const totals: Partial<Record<LicenseTypeName, number>> = {};
  for (const rec of records) {
    if (rec.status !== 'active' && rec.status !== 'expiring' && rec.status !== 'removing') continue;
    for (const [t, n] of Object.entries(rec.payload.licenses) as [LicenseTypeName, number][]) totals[t] = (totals[t] ?? 0) + n;
  }
  return totals;
}
