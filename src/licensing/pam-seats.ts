/**
 * PAM users and seats (SPEC P1, P2): seats are assigned and unassigned manually only, one per
 * user, never beyond the tenant's pool; they expire with their key like endpoint licenses.
 * Each change takes an op id (the job's): its script stores the reply under it, so a retried
 * job has no second effect and gets the first reply (SPEC A3, F3).
 */
import { randomBytes } from 'node:crypto';
import { LicensegateError } from '../errors.ts';
import { nowOf, runJsonScript, type LedgerContext } from './ledger-context.ts';
import { authorizeLicenses, authorizeTenant, PERMISSIONS, type Actor } from './permissions.ts';

export interface PamUser {
  tenant: string;
  id: string;
  name: string;
  seat: boolean;
}

export async function createPamUser(ctx: LedgerContext, actor: Actor, tenantId: string, name: string, userId?: string, opId = ''): Promise<PamUser> {
  authorizeTenant(actor, tenantId, 'creating a PAM user');
  if (!actor.permissions.includes(PERMISSIONS.licenses)) throw new LicensegateError('FORBIDDEN', `creating a PAM user needs ${PERMISSIONS.licenses}`);
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 128) throw new LicensegateError('INVALID_ARGUMENT', 'user name must be 1-128 characters');
  const id = userId ?? `${trimmed.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'user'}-${randomBytes(3).toString('hex')}`;
  if (!/^[A-Za-z0-9._@-]{1,128}$/.test(id)) throw new LicensegateError('INVALID_ARGUMENT', 'user id must be 1-128 characters of [A-Za-z0-9._@-]');
  // A retry (same op) gets the user its first run created, whatever id this run picked.
  let created: { id: string; name: string };
  try {
    created = await runJsonScript<{ id: string; name: string }>(ctx, 'createUser', tenantId, [id, trimmed, nowOf(ctx), opId, trimmed.toLowerCase(), userId === undefined ? '0' : '1']);
  } catch (err) {
    const existingId = (err as { detail?: { existingId?: string } }).detail?.existingId;
    if (!(err instanceof LicensegateError) || err.code !== 'USER_EXISTS' || existingId === undefined) throw err;
    const why = existingId === id ? `user ${id} exists with another name` : `the name "${trimmed}" belongs to user ${existingId} in tenant ${tenantId}; give an explicit user id to create another one with that name`;
    throw new LicensegateError('USER_EXISTS', why);
  }
  return { tenant: tenantId, id: created.id, name: created.name, seat: false };
}

async function seat(ctx: LedgerContext, actor: Actor, tenantId: string, userId: string, op: 'assign' | 'unassign', cause: string, opId: string): Promise<{ userId: string; seat: boolean; changed: boolean }> {
  authorizeLicenses(actor, tenantId, `${op === 'assign' ? 'assigning' : 'unassigning'} a PAM seat`);
  const reply = await runJsonScript<{ changed: boolean }>(ctx, 'seat', tenantId, [userId, op, nowOf(ctx), actor.userId, cause, opId]).catch((err: unknown) => {
    // Name the user and the tenant searched (issue 12), as CLIENT_NOT_FOUND does.
    if (err instanceof LicensegateError && err.code === 'USER_NOT_FOUND') throw new LicensegateError('USER_NOT_FOUND', `user ${userId} in tenant ${tenantId}`);
    throw err;
  });
  return { userId, seat: op === 'assign', changed: reply.changed };
}

export function assignPamSeat(ctx: LedgerContext, actor: Actor, tenantId: string, userId: string, cause = 'pam.assign', opId = '') {
  return seat(ctx, actor, tenantId, userId, 'assign', cause, opId);
}

export function unassignPamSeat(ctx: LedgerContext, actor: Actor, tenantId: string, userId: string, cause = 'pam.unassign', opId = '') {
  return seat(ctx, actor, tenantId, userId, 'unassign', cause, opId);
}

export async function listPamUsers(ctx: LedgerContext, tenantId: string): Promise<PamUser[]> {
  const ids = (await ctx.redis.smembers(ctx.keys.users(tenantId))).sort();
  const out: PamUser[] = [];
  for (const id of ids) {
    const [name, type] = await ctx.redis.hmget(ctx.keys.user(tenantId, id), 'name', 'type');
    out.push({ tenant: tenantId, id, name: name ?? id, seat: type === 'pam-seat' });
  }
  return out;
}
