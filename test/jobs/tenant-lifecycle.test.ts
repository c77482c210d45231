/**
 * Issue 12 through real admin jobs (BullMQ worker, real Redis): one tenant / one PAM user per
 * name unless an explicit id is given, tenant.rename and tenant.delete (TENANT_NOT_EMPTY while
 * it holds licenses, Client ids — uninstalled ones until the retention purge — or PAM users).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminJobError } from '../../src/admin/client.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { PERMISSIONS, TECHNICIAN } from '../../src/licensing/permissions.ts';
import { applyRetention, DEFAULT_RETENTION } from '../../src/licensing/retention.ts';
import { listTenants } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { startTestAdmin, type TestAdmin } from '../helpers/admin.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { activatePool } from '../helpers/ledger.ts';
import { scanKeys } from '../helpers/redis.ts';

let gw: TestGateway;
let t: TestAdmin;
beforeAll(async () => {
  gw = await startTestGateway();
  t = await startTestAdmin(gw.ctx);
  await activatePool(gw.ctx, { linux: 10, 'pam-seat': 2 });
});
afterAll(async () => {
  expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
  await t.stop();
  await gw.stop();
});

async function refusal(p: Promise<unknown>): Promise<AdminJobError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AdminJobError);
  return err as AdminJobError;
}

const auditOf = async (tenant: string) =>
  ((await gw.redis.xrange(gw.keys.audit(tenant), '-', '+')) as [string, string[]][]).map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]]]))) as Record<string, string>);

describe('tenant and PAM user names', () => {
  it('T1: tenant.create with a name an existing tenant has (trimmed, any case) is refused with TENANT_EXISTS naming it; an explicit tenantId makes a second', async () => {
    const first = await t.admin.createTenant({ name: 'Acme Corp' });
    expect(first.id).toBe('acme-corp');
    const again = await refusal(t.admin.createTenant({ name: '  acme CORP ' }));
    expect(again.code).toBe('TENANT_EXISTS');
    expect(again.message).toContain('acme-corp');
    expect(again.message).not.toMatch(/[{}]/);
    expect((await listTenants(gw.ctx)).map((x) => x.id)).not.toContain('acme-corp-2');
    const explicit = await t.admin.createTenant({ name: 'Acme Corp', tenantId: 'acme-corp-eu' });
    expect(explicit).toMatchObject({ id: 'acme-corp-eu', name: 'Acme Corp' });
    // The default tenant's name counts too.
    expect((await refusal(t.admin.createTenant({ name: 'DEFAULT' }))).code).toBe('TENANT_EXISTS');
  });

  it('T1: ten concurrent tenant.create jobs of one name make one tenant', async () => {
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => t.admin.createTenant({ name: 'Racer' })));
    const made = results.filter((r) => r.status === 'fulfilled');
    expect(made).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as AdminJobError).code).toBe('TENANT_EXISTS');
    expect((await listTenants(gw.ctx)).filter((x) => x.name === 'Racer')).toHaveLength(1);
  });

  it('P1: user.create with a name the tenant already has is refused with USER_EXISTS naming the user; an explicit userId makes a second', async () => {
    const alice = await t.admin.createUser({ tenantId: DEFAULT_TENANT, name: 'Alice Smith' });
    const again = await refusal(t.admin.createUser({ tenantId: DEFAULT_TENANT, name: 'alice smith ' }));
    expect(again.code).toBe('USER_EXISTS');
    expect(again.message).toContain(alice.id);
    expect(await gw.redis.scard(gw.keys.users(DEFAULT_TENANT))).toBe(1);
    const second = await t.admin.createUser({ tenantId: DEFAULT_TENANT, name: 'Alice Smith', userId: 'alice.smith2' });
    expect(second).toMatchObject({ id: 'alice.smith2', name: 'Alice Smith', seat: false });
    const racers = await Promise.allSettled(Array.from({ length: 6 }, () => t.admin.createUser({ tenantId: DEFAULT_TENANT, name: 'Bob' })));
    expect(racers.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });
});

describe('tenant.rename and tenant.delete', () => {
  it('T1 A5: tenant.rename keeps the id, changes the name, audits it; a name another tenant has is refused', async () => {
    const created = await t.admin.createTenant({ name: 'Globex' });
    const renamed = await t.admin.renameTenant({ tenantId: created.id, name: 'Globex International' });
    expect(renamed).toMatchObject({ id: created.id, name: 'Globex International' });
    expect((await listTenants(gw.ctx)).find((x) => x.id === created.id)?.name).toBe('Globex International');
    expect((await auditOf(created.id)).at(-1)).toMatchObject({ action: 'tenant-renamed', before: 'Globex', after: 'Globex International', actor: TECHNICIAN.userId });
    // The old name is free again; the new one is taken.
    expect((await t.admin.createTenant({ name: 'globex' })).id).toBe('globex-2');
    expect((await refusal(t.admin.renameTenant({ tenantId: 'globex-2', name: 'GLOBEX international' }))).code).toBe('TENANT_EXISTS');
    expect((await refusal(t.admin.createTenant({ name: 'Globex International' }))).code).toBe('TENANT_EXISTS');
  });

  it('T2 A2: rename and delete are the default tenant admins\' with tenant management; the default tenant is never deleted', async () => {
    const tenant = await t.admin.createTenant({ name: 'Initech' });
    const ownAdmin = { userId: 'own', tenantId: tenant.id, permissions: Object.values(PERMISSIONS) };
    const noTenants = { ...TECHNICIAN, permissions: [PERMISSIONS.clients, PERMISSIONS.licenses] };
    for (const actor of [ownAdmin, noTenants]) {
      expect((await refusal(t.admin.renameTenant({ tenantId: tenant.id, name: 'x', actor }))).code).toBe('FORBIDDEN');
      expect((await refusal(t.admin.deleteTenant({ tenantId: tenant.id, actor }))).code).toBe('FORBIDDEN');
    }
    expect((await listTenants(gw.ctx)).find((x) => x.id === tenant.id)?.name).toBe('Initech');
    expect((await refusal(t.admin.deleteTenant({ tenantId: DEFAULT_TENANT }))).code).toBe('INVALID_ARGUMENT');
    expect((await refusal(t.admin.deleteTenant({ tenantId: 'no-such-tenant' }))).code).toBe('UNKNOWN_TENANT');
  });

  it('T4 Z5: tenant.delete is refused (TENANT_NOT_EMPTY) while licenses, Clients (uninstalled until purged) or PAM users remain; then every key goes and the name and id are free', async () => {
    const tenant = await t.admin.createTenant({ name: 'Umbrella' });
    const notEmpty = async () => {
      const e = await refusal(t.admin.deleteTenant({ tenantId: tenant.id }));
      expect(e.code).toBe('TENANT_NOT_EMPTY');
      expect(e.message).not.toMatch(/[{}]/);
      return e.message;
    };
    await t.admin.grant({ tenantId: tenant.id, type: 'linux', count: 2 });
    expect(await notEmpty()).toMatch(/2 granted licenses/);
    const agent = newAgent(gw.url, { tenantId: tenant.id, os: OS.linux, enrollmentToken: tenant.enrollmentToken });
    await agent.connect();
    await agent.waitFor(() => agent.monitoring);
    await t.admin.uninstall({ tenantId: tenant.id, clientId: agent.clientId });
    await agent.waitFor(() => agent.uninstalled, 5000);
    await agent.close();
    await t.admin.takeBack({ tenantId: tenant.id, type: 'linux', count: 2 });
    expect(await notEmpty()).toMatch(/1 Clients/);
    // The retention purge releases the uninstalled Client's record and id.
    await applyRetention(gw.ctx, { ...DEFAULT_RETENTION, uninstalledRetentionMs: 1 });
    expect(await gw.redis.scard(gw.keys.clients(tenant.id))).toBe(0);
    const user = await t.admin.createUser({ tenantId: tenant.id, name: 'carol' });
    expect(await notEmpty()).toMatch(/1 PAM users/);
    // A user can only be removed with its tenant's data; remove it by hand to empty the tenant.
    await gw.redis.multi().srem(gw.keys.users(tenant.id), user.id).del(gw.keys.user(tenant.id, user.id)).exec();
    expect(await t.admin.deleteTenant({ tenantId: tenant.id })).toEqual({ tenantId: tenant.id, deleted: true });
    expect(await scanKeys(gw.redis, `${gw.keys.tenantBase(tenant.id)}*`).then((k) => k.filter((x) => !x.includes(':op:')))).toEqual([]);
    expect(await gw.redis.sismember(gw.keys.tenants(), tenant.id)).toBe(0);
    expect(await gw.redis.hget(gw.keys.tenantClaims(), tenant.id)).toBeNull();
    expect(Object.values(await gw.redis.hgetall(gw.keys.tenantNames()))).not.toContain(`tenant:${tenant.id}`);
    expect((await auditOf(DEFAULT_TENANT)).at(-1)).toMatchObject({ action: 'tenant-deleted', before: tenant.id, reason: 'Umbrella', actor: TECHNICIAN.userId });
    // Deleted: its token enrolls nobody, and the name and id can be used again.
    const late = newAgent(gw.url, { tenantId: tenant.id, os: OS.linux, enrollmentToken: tenant.enrollmentToken });
    await expect(late.connect()).rejects.toThrow();
    late.terminate();
    expect((await t.admin.createTenant({ name: 'umbrella' })).id).toBe(tenant.id);
  });

  it('A3 F3: a repeated tenant.delete job (same idempotency key) returns its first result; a second delete says UNKNOWN_TENANT', async () => {
    const tenant = await t.admin.createTenant({ name: 'Hooli' });
    const key = `del-${tenant.id}`;
    expect(await t.admin.deleteTenant({ tenantId: tenant.id, idempotencyKey: key })).toEqual({ tenantId: tenant.id, deleted: true });
    expect(await t.admin.deleteTenant({ tenantId: tenant.id, idempotencyKey: key })).toEqual({ tenantId: tenant.id, deleted: true });
    expect((await refusal(t.admin.deleteTenant({ tenantId: tenant.id }))).code).toBe('UNKNOWN_TENANT');
    expect((await auditOf(DEFAULT_TENANT)).filter((e) => e.action === 'tenant-deleted' && e.before === tenant.id)).toHaveLength(1);
  });
});
