/**
 * Tenants (SPEC T1–T6). The built-in default tenant always exists; its enrollment token is
 * ENROLLMENT_TOKEN when set, else the one already stored, else a new random one. Other
 * tenants exist only in multi-tenant mode (an active key allows it) and hold only licenses the
 * technician grants them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { hashSecret, newEnrollmentToken } from '../auth/secrets.ts';
import { LicensegateError } from '../errors.ts';
import { DEFAULT_TENANT, type Keys } from '../store/keys.ts';
import { idsOf, nowOf, runJsonScript, type LedgerContext } from './ledger-context.ts';
import type { LicenseTypeName } from './license-types.ts';
import { takeBackOut } from './batched-steps.ts';
import { authorizeSystem, type Actor } from './permissions.ts';
import { drainPromotions } from './promotion.ts';
import { listSerialKeys } from './serial-key-ledger.ts';

export interface EnsureTenantOptions {
  name?: string;
  /** Replace the enrollment token with this one. */
  enrollmentToken?: string | undefined;
}

/** Creates the tenant if missing; returns its enrollment token. Safe to race. */
export async function ensureTenant(redis: Redis, keys: Keys, tenantId: string, options: EnsureTenantOptions = {}): Promise<string> {
  const key = keys.tenant(tenantId);
  await redis.hsetnx(key, 'name', options.name ?? tenantId);
  await redis.hsetnx(key, 'createdAt', Date.now());
  if (options.enrollmentToken) {
    await redis.hset(key, 'enrollToken', options.enrollmentToken, 'enrollTokenHash', hashSecret(options.enrollmentToken));
  } else {
    await redis.hsetnx(key, 'enrollToken', newEnrollmentToken());
    const token = (await redis.hget(key, 'enrollToken'))!;
    await redis.hset(key, 'enrollTokenHash', hashSecret(token));
  }
  await redis.sadd(keys.tenants(), tenantId);
  return (await redis.hget(key, 'enrollToken'))!;
}

export interface TenantInfo {
  id: string;
  name: string;
  enrollmentToken: string;
  createdAt: number;
}

function slug(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return s || `tenant-${randomBytes(3).toString('hex')}`;
}

/** Creates a tenant (T1): needs multi-tenant mode. Its id is a slug of the name, made unique. */
export async function createTenant(ctx: LedgerContext, actor: Actor, name: string, requestedId?: string): Promise<TenantInfo> {
  authorizeSystem(actor, 'creating a tenant');
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 128) throw new LicensegateError('INVALID_ARGUMENT', 'tenant name must be 1-128 characters');
  const keys = await listSerialKeys(ctx);
  if (!keys.some((k) => k.status === 'active' && k.payload.multiTenant)) throw new LicensegateError('MULTI_TENANT_NOT_ALLOWED');
  const base = requestedId ?? slug(trimmed);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(base)) throw new LicensegateError('INVALID_ARGUMENT', 'tenant id must be 1-64 characters of [A-Za-z0-9._-]');
  let id = base;
  for (let i = 2; (await ctx.redis.sadd(ctx.keys.tenants(), id)) === 0; i++) {
    if (requestedId) throw new LicensegateError('TENANT_EXISTS', id);
    id = `${base}-${i}`;
  }
  const enrollmentToken = await ensureTenant(ctx.redis, ctx.keys, id, { name: trimmed });
  return { id, name: trimmed, enrollmentToken, createdAt: Number(await ctx.redis.hget(ctx.keys.tenant(id), 'createdAt')) };
}

export async function listTenants(ctx: LedgerContext): Promise<TenantInfo[]> {
  const ids = (await ctx.redis.smembers(ctx.keys.tenants())).sort((a, b) => (a === DEFAULT_TENANT ? -1 : b === DEFAULT_TENANT ? 1 : a.localeCompare(b)));
  const out: TenantInfo[] = [];
  for (const id of ids) {
    const h = await ctx.redis.hgetall(ctx.keys.tenant(id));
    out.push({ id, name: h.name ?? id, enrollmentToken: h.enrollToken ?? '', createdAt: Number(h.createdAt ?? 0) });
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

interface GrantPart {
  key: string;
  exp: number;
  n: number;
}

/**
 * Grants `count` licenses of a type to a tenant out of the default tenant's available pool
 * (T1, T2). Two idempotent steps keyed by opId: reserve in the default tenant, deliver to the
 * tenant. Call again with the same opId to finish a grant interrupted between them.
 */
export async function grantLicenses(ctx: LedgerContext, actor: Actor, tenantId: string, type: LicenseTypeName, count: number, opId: string = randomUUID()): Promise<{ tenantId: string; type: LicenseTypeName; granted: number; promoted: string[] }> {
  authorizeSystem(actor, 'granting licenses to a tenant');
  checkCount(count);
  await requireTenant(ctx, tenantId);
  const reserved = await reserveGrant(ctx, actor, tenantId, type, count, opId);
  const now = nowOf(ctx);
  const delivered = await runJsonScript<{ promoted: unknown }>(ctx, 'grantIn', tenantId, [`grant:${opId}`, type, JSON.stringify(reserved.parts), now, actor.userId, `grant:${opId}`]);
  const promoted = [...idsOf(delivered.promoted), ...(await drainPromotions(ctx, tenantId, { actorId: actor.userId, cause: `grant:${opId}` }))];
  return { tenantId, type, granted: count, promoted };
}

/** Step one of a grant, exported so tests can stop a grant between its steps. */
export async function reserveGrant(ctx: LedgerContext, actor: Actor, tenantId: string, type: LicenseTypeName, count: number, opId: string): Promise<{ parts: GrantPart[] }> {
  return runJsonScript<{ parts: GrantPart[] }>(ctx, 'grantOut', DEFAULT_TENANT, [`grant:${opId}`, tenantId, type, count, nowOf(ctx), actor.userId, `grant:${opId}`]);
}

/**
 * Takes licenses back from a tenant (T4): refused below what it has assigned unless `force`,
 * which unassigns longest-offline first. Two idempotent steps keyed by opId.
 */
export async function takeBackLicenses(ctx: LedgerContext, actor: Actor, tenantId: string, type: LicenseTypeName, count: number, force: boolean, opId: string = randomUUID()): Promise<{ tenantId: string; type: LicenseTypeName; takenBack: number; unassigned: string[] }> {
  authorizeSystem(actor, 'taking licenses back from a tenant');
  checkCount(count);
  await requireTenant(ctx, tenantId);
  const now = nowOf(ctx);
  const out = await takeBackOut(ctx, tenantId, { opId: `takeback:${opId}`, type, count, force, now, actorId: actor.userId, cause: `takeback:${opId}` });
  const lost = out.lost;
  // Clients promoted in the default tenant are rung by the script.
  await runJsonScript<{ promoted: unknown }>(ctx, 'takeBackIn', DEFAULT_TENANT, [`takeback:${opId}`, tenantId, type, JSON.stringify(out.parts), now, actor.userId, `takeback:${opId}`]);
  await drainPromotions(ctx, DEFAULT_TENANT, { actorId: actor.userId, cause: `takeback:${opId}` });
  return { tenantId, type, takenBack: count, unassigned: lost };
}
