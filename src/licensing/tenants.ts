/**
 * Tenants (SPEC T1–T6). The built-in default tenant always exists; its enrollment token is
 * ENROLLMENT_TOKEN when set, else the one already stored, else a new random one. Other
 * tenants exist only in multi-tenant mode (an active key allows it) and hold only licenses the
 * technician grants them.
 *
 * Enrollment tokens are stored only as their SHA-256 (`enrollTokenHash`, SPEC Z2): the
 * cleartext exists in the process that makes a token and is shown once — by `tenants create`,
 * `tenants rotate-token` (src/licensing/enrollment-tokens.ts) or the first zero-config start.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { RedisClient } from '../store/redis-connection.ts';
import { hashSecret, newEnrollmentToken } from '../auth/secrets.ts';
import { LicensegateError } from '../errors.ts';
import { DEFAULT_TENANT, type Keys } from '../store/keys.ts';
import { idsOf, nowOf, runJsonScript, type LedgerContext } from './ledger-context.ts';
import type { LicenseTypeName } from './license-types.ts';
import { takeBackOut as takeBackOutBatched } from './batched-steps.ts';
import { authorizeSystem, type Actor } from './permissions.ts';
import { forgetSaga, recordSaga, sagaField, type GrantPart, type SagaRecord } from './sagas.ts';
import { drainPromotions } from './promotion.ts';
import { listSerialKeys } from './serial-key-ledger.ts';
import { claimNameForCreate, nameKey, pointNameAt } from './tenant-names.ts';

export interface EnsureTenantOptions {
  name?: string;
  /** Replace the enrollment token with this one (ENROLLMENT_TOKEN). */
  enrollmentToken?: string | undefined;
}

/**
 * Creates the tenant if missing. Returns the enrollment token only when it is known here: the
 * one given, or the one made now because the tenant had none (undefined when a token existed:
 * only its hash is stored, and it was shown when it was made). Safe to race: of two processes
 * making a token at once, one wins (HSETNX) and only it gets a token back.
 */
export async function ensureTenant(redis: RedisClient, keys: Keys, tenantId: string, options: EnsureTenantOptions = {}): Promise<string | undefined> {
  const key = keys.tenant(tenantId);
  await redis.hsetnx(key, 'name', options.name ?? tenantId);
  await redis.hsetnx(key, 'createdAt', Date.now());
  let token: string | undefined;
  if (options.enrollmentToken) {
    await redis.hset(key, 'enrollTokenHash', hashSecret(options.enrollmentToken));
    token = options.enrollmentToken;
  } else {
    const fresh = newEnrollmentToken();
    if ((await redis.hsetnx(key, 'enrollTokenHash', hashSecret(fresh))) === 1) token = fresh;
  }
  await redis.sadd(keys.tenants(), tenantId);
  return token;
}

export interface TenantInfo {
  id: string;
  name: string;
  createdAt: number;
}

/** A tenant just created: with its enrollment token, shown this once. */
export interface CreatedTenant extends TenantInfo {
  /** The new token; '' when the caller chose it and sent only its hash (it holds the token). */
  enrollmentToken: string;
}

function slug(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return s || `tenant-${randomBytes(3).toString('hex')}`;
}

/**
 * Creates a tenant (T1): needs multi-tenant mode. Its id is a slug of the name, made unique.
 * Retry-safe by op id (F3): the id is claimed for the op first (tenant-claims hash), then the
 * tenant is built (idempotent field by field) and only then listed. A retry finds its own
 * claim and finishes the same tenant — never a second one ("acme-2") nor a half-built one.
 * A claim whose op never comes back keeps its id reserved (the tenant is not listed).
 */
export async function createTenant(
  ctx: LedgerContext,
  actor: Actor,
  name: string,
  requestedId?: string,
  opId: string = randomUUID(),
  enrollTokenHash?: string,
): Promise<CreatedTenant> {
  authorizeSystem(actor, 'creating a tenant');
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 128) throw new LicensegateError('INVALID_ARGUMENT', 'tenant name must be 1-128 characters');
  const base = requestedId ?? slug(trimmed);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(base)) throw new LicensegateError('INVALID_ARGUMENT', 'tenant id must be 1-64 characters of [A-Za-z0-9._-]');
  // One tenant per name unless the caller names the id (issue 12; tenant-names.ts). The mode is
  // checked first so that a refused create leaves no name claimed.
  if (requestedId === undefined) {
    if ((await ctx.redis.hget(ctx.keys.tenantNames(), nameKey(trimmed))) !== opId && !(await multiTenantAllowed(ctx))) throw new LicensegateError('MULTI_TENANT_NOT_ALLOWED');
    await claimNameForCreate(ctx, trimmed, opId);
  }
  const id = await claimTenantId(ctx, base, requestedId !== undefined, opId);
  await pointNameAt(ctx, trimmed, id, opId);
  const key = ctx.keys.tenant(id);
  await ctx.redis.hsetnx(key, 'name', trimmed);
  await ctx.redis.hsetnx(key, 'createdAt', Date.now());
  // The tenant is this op's (its claim): a token set by an earlier attempt of the op was never
  // handed out (the op had not returned), so it is replaced, not kept — a retry still shows one.
  const enrollmentToken = enrollTokenHash === undefined ? newEnrollmentToken() : '';
  await ctx.redis.hset(key, 'enrollTokenHash', enrollTokenHash ?? hashSecret(enrollmentToken));
  await ctx.redis.sadd(ctx.keys.tenants(), id);
  const h = await ctx.redis.hmget(key, 'name', 'createdAt');
  return { id, name: h[0] ?? trimmed, enrollmentToken, createdAt: Number(h[1]) };
}

/**
 * The id this op owns: its earlier claim if any (ids are claimed in order, so it lies before
 * the first free one), else the first free candidate, claimed now — after checking that
 * multi-tenant mode is on, a check the first run already passed when the claim exists.
 */
async function claimTenantId(ctx: LedgerContext, base: string, exact: boolean, opId: string): Promise<string> {
  const claims = ctx.keys.tenantClaims();
  for (let i = 1; ; i++) {
    const id = i === 1 ? base : `${base}-${i}`;
    const owner = await ctx.redis.hget(claims, id);
    if (owner === opId) return id;
    if (owner === null && (await ctx.redis.sismember(ctx.keys.tenants(), id)) === 0) {
      if (!(await multiTenantAllowed(ctx))) throw new LicensegateError('MULTI_TENANT_NOT_ALLOWED');
      if ((await ctx.redis.hsetnx(claims, id, opId)) === 1) return id;
      if ((await ctx.redis.hget(claims, id)) === opId) return id;
    }
    if (exact) throw new LicensegateError('TENANT_EXISTS', id);
  }
}

async function multiTenantAllowed(ctx: LedgerContext): Promise<boolean> {
  return (await listSerialKeys(ctx)).some((k) => k.status === 'active' && k.payload.multiTenant);
}

export async function listTenants(ctx: LedgerContext): Promise<TenantInfo[]> {
  const ids = (await ctx.redis.smembers(ctx.keys.tenants())).sort((a, b) => (a === DEFAULT_TENANT ? -1 : b === DEFAULT_TENANT ? 1 : a.localeCompare(b)));
  const out: TenantInfo[] = [];
  for (const id of ids) {
    const [name, createdAt] = await ctx.redis.hmget(ctx.keys.tenant(id), 'name', 'createdAt'); // no token: only its hash is stored
    out.push({ id, name: name ?? id, createdAt: Number(createdAt ?? 0) });
  }
  return out;
}

async function requireTenant(ctx: LedgerContext, tenantId: string): Promise<void> {
  if (tenantId === DEFAULT_TENANT) throw new LicensegateError('INVALID_ARGUMENT', 'the default tenant holds every license not granted; grant to another tenant');
  if ((await ctx.redis.sismember(ctx.keys.tenants(), tenantId)) === 0) throw new LicensegateError('UNKNOWN_TENANT', tenantId);
}

function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 1) throw new LicensegateError('INVALID_ARGUMENT', 'count must be a positive integer');
}

export interface GrantResult {
  tenantId: string;
  type: LicenseTypeName;
  granted: number;
  promoted: string[];
}

export interface TakeBackResult {
  tenantId: string;
  type: LicenseTypeName;
  takenBack: number;
  unassigned: string[];
}

/** A coded refusal (as opposed to a fault): the saga step changed nothing and never will. */
const refused = (err: unknown) => err instanceof LicensegateError && err.code !== 'INTERNAL_ERROR';

/**
 * Grants `count` licenses of a type to a tenant out of the default tenant's available pool
 * (T1, T2). A saga of two idempotent steps keyed by opId — reserve in the default tenant
 * (which records the pending saga), deliver to the tenant (after which the record goes) — that
 * the job's retry or the ledger's resumer finishes if it is interrupted (F2).
 */
export async function grantLicenses(ctx: LedgerContext, actor: Actor, tenantId: string, type: LicenseTypeName, count: number, opId: string = randomUUID()): Promise<GrantResult> {
  authorizeSystem(actor, 'granting licenses to a tenant');
  checkCount(count);
  await requireTenant(ctx, tenantId);
  const saga = await reserveGrant(ctx, actor, tenantId, type, count, opId);
  return deliverGrant(ctx, saga);
}

/**
 * Step one of a grant, with its pending-saga record in the same atomic call. Exported so tests
 * can stop a grant between its steps. A retry returns the first reply (parts reserved then).
 */
export async function reserveGrant(ctx: LedgerContext, actor: Actor, tenantId: string, type: LicenseTypeName, count: number, opId: string): Promise<SagaRecord> {
  const saga: SagaRecord = { kind: 'grant', opId, tenant: tenantId, type, count, force: false, actor: actor.userId, startedAt: nowOf(ctx) };
  const { parts } = await runJsonScript<{ parts: GrantPart[] }>(ctx, 'grantOut', DEFAULT_TENANT, [
    `grant:${opId}`,
    tenantId,
    type,
    count,
    saga.startedAt,
    actor.userId,
    `grant:${opId}`,
    sagaField('grant', opId),
    JSON.stringify(saga),
  ]);
  return { ...saga, parts };
}

/**
 * Step two of a grant and the end of its saga: run by grantLicenses and by the resumer. When
 * the tenant was deleted after the grant checked it (a tenant.delete racing the grant), step
 * two refuses with UNKNOWN_TENANT and the reserved licenses go back to the default tenant
 * (grant-return, which also ends the saga): the grant fails and no license is lost or made.
 */
export async function deliverGrant(ctx: LedgerContext, saga: SagaRecord): Promise<GrantResult> {
  const op = `grant:${saga.opId}`;
  let delivered: { promoted: unknown };
  try {
    delivered = await runJsonScript<{ promoted: unknown }>(ctx, 'grantIn', saga.tenant, [op, saga.type, JSON.stringify(saga.parts ?? []), nowOf(ctx), saga.actor, op]);
  } catch (err) {
    if (!(err instanceof LicensegateError) || err.code !== 'UNKNOWN_TENANT') throw err;
    const returned = await returnGrant(ctx, saga);
    throw new LicensegateError('UNKNOWN_TENANT', `${saga.tenant} was deleted while the grant was in flight; its ${returned} licenses went back to the default tenant`);
  }
  // The rest of a big promotion, in bounded batches (F6), before the saga counts as done.
  const drained = await drainPromotions(ctx, saga.tenant, { actorId: saga.actor, cause: op });
  await forgetSaga(ctx, 'grant', saga.opId);
  return { tenantId: saga.tenant, type: saga.type, granted: saga.count, promoted: [...idsOf(delivered.promoted), ...drained] };
}

/** Compensates a grant whose tenant is gone (grant-return-1.lua); returns how many licenses came back. */
async function returnGrant(ctx: LedgerContext, saga: SagaRecord): Promise<number> {
  const op = `grant:${saga.opId}`;
  const r = await runJsonScript<{ returned: number }>(ctx, 'grantReturn', DEFAULT_TENANT, [
    `grant-return:${saga.opId}`,
    saga.tenant,
    saga.type,
    JSON.stringify(saga.parts ?? []),
    nowOf(ctx),
    saga.actor,
    op,
    sagaField('grant', saga.opId),
  ]);
  await drainPromotions(ctx, DEFAULT_TENANT, { actorId: saga.actor, cause: op });
  return r.returned;
}

/**
 * Takes licenses back from a tenant (T4): refused below what it has assigned unless `force`,
 * which unassigns longest-offline first. A saga of two idempotent steps keyed by opId, recorded
 * before its first step; the job's retry or the ledger's resumer finishes it (F2).
 */
export async function takeBackLicenses(ctx: LedgerContext, actor: Actor, tenantId: string, type: LicenseTypeName, count: number, force: boolean, opId: string = randomUUID()): Promise<TakeBackResult> {
  authorizeSystem(actor, 'taking licenses back from a tenant');
  checkCount(count);
  await requireTenant(ctx, tenantId);
  const saga: SagaRecord = { kind: 'takeBack', opId, tenant: tenantId, type, count, force, actor: actor.userId, startedAt: nowOf(ctx) };
  await recordSaga(ctx, saga);
  return runTakeBack(ctx, saga);
}

/**
 * Step one of a take-back (the tenant gives the licenses up). Exported so tests can stop a
 * take-back between its steps. A refusal ends the saga: its record goes.
 */
export async function takeBackOut(ctx: LedgerContext, saga: SagaRecord): Promise<{ parts: { key: string; n: number }[]; lost: string[] }> {
  const op = `takeback:${saga.opId}`;
  try {
    // Bounded batches (F6): the script keeps its progress, so a crash in between loses nothing.
    return await takeBackOutBatched(ctx, saga.tenant, { opId: op, type: saga.type, count: saga.count, force: saga.force, now: nowOf(ctx), actorId: saga.actor, cause: op });
  } catch (err) {
    if (refused(err)) await forgetSaga(ctx, 'takeBack', saga.opId);
    throw err;
  }
}

/** Both steps of a take-back; the second deletes the saga's record. Run by takeBackLicenses and the resumer. */
export async function runTakeBack(ctx: LedgerContext, saga: SagaRecord): Promise<TakeBackResult> {
  const op = `takeback:${saga.opId}`;
  const out = await takeBackOut(ctx, saga);
  // Clients promoted in the default tenant are rung by the script.
  await runJsonScript<{ promoted: unknown }>(ctx, 'takeBackIn', DEFAULT_TENANT, [op, saga.tenant, saga.type, JSON.stringify(out.parts), nowOf(ctx), saga.actor, op, sagaField('takeBack', saga.opId)]);
  await drainPromotions(ctx, DEFAULT_TENANT, { actorId: saga.actor, cause: op });
  return { tenantId: saga.tenant, type: saga.type, takenBack: saga.count, unassigned: out.lost };
}
