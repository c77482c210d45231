import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { assignPamSeat, createPamUser, listPamUsers, unassignPamSeat } from '../../src/licensing/pam-seats.ts';
import { PERMISSIONS, TECHNICIAN, type Actor } from '../../src/licensing/permissions.ts';
import { endSerialKey } from '../../src/licensing/serial-key-ledger.ts';
import { createTenant, grantLicenses } from '../../src/licensing/tenants.ts';
import { tenantPools } from '../../src/licensing/views.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { activatePool } from '../helpers/ledger.ts';

let gw: TestGateway;
let keyId: string;
beforeAll(async () => {
  gw = await startTestGateway();
  keyId = await activatePool(gw.ctx, { 'pam-seat': 3, workstation: 5 });
});
afterAll(() => gw.stop());

const seats = async (tenant = DEFAULT_TENANT) => (await tenantPools(gw.ctx, tenant)).find((p) => p.type === 'pam-seat')!;

describe('PAM seats', () => {
  it('P1 L3: seats are assigned manually, one per user', async () => {
    const u = await createPamUser(gw.ctx, TECHNICIAN, DEFAULT_TENANT, 'Ada Lovelace');
    expect(u.id).toMatch(/^ada-lovelace-[0-9a-f]{6}$/);
    expect(await assignPamSeat(gw.ctx, TECHNICIAN, DEFAULT_TENANT, u.id)).toEqual({ userId: u.id, seat: true, changed: true });
    expect(await assignPamSeat(gw.ctx, TECHNICIAN, DEFAULT_TENANT, u.id)).toEqual({ userId: u.id, seat: true, changed: false });
    expect(await seats()).toMatchObject({ granted: 3, assigned: 1 });
    expect((await listPamUsers(gw.ctx, DEFAULT_TENANT)).find((x) => x.id === u.id)?.seat).toBe(true);
    expect(await unassignPamSeat(gw.ctx, TECHNICIAN, DEFAULT_TENANT, u.id)).toMatchObject({ changed: true });
    expect(await seats()).toMatchObject({ assigned: 0 });
  });

  it('P1: nothing assigns seats automatically — not Clients, not new users', async () => {
    const agent = newAgent(gw.url, { os: OS.windows });
    await agent.connect();
    await createPamUser(gw.ctx, TECHNICIAN, DEFAULT_TENANT, 'Grace');
    expect(await seats()).toMatchObject({ assigned: 0 });
    expect(await gw.redis.sismember(gw.keys.holders(DEFAULT_TENANT, 'pam-seat'), agent.clientId)).toBe(0);
    await agent.close();
  });

  it('P2 L4: seats never go beyond the pool, even when assigned concurrently', async () => {
    const users = await Promise.all(Array.from({ length: 20 }, (_, i) => createPamUser(gw.ctx, TECHNICIAN, DEFAULT_TENANT, `user ${i}`)));
    const results = await Promise.allSettled(users.map((u) => assignPamSeat(gw.ctx, TECHNICIAN, DEFAULT_TENANT, u.id)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    for (const r of results.filter((x) => x.status === 'rejected')) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'NO_LICENSE_AVAILABLE' });
    expect(await seats()).toMatchObject({ granted: 3, assigned: 3, available: 0 });
    expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
  });

  it('P2 A2 T6: seat changes need both license permissions, inside the actor\'s tenant', async () => {
    const tenant = await createTenant(gw.ctx, TECHNICIAN, 'Hooli');
    const admin: Actor = { userId: 'gavin', tenantId: tenant.id, permissions: [PERMISSIONS.clients, PERMISSIONS.licenses] };
    const u = await createPamUser(gw.ctx, admin, tenant.id, 'Richard');
    await expect(assignPamSeat(gw.ctx, admin, DEFAULT_TENANT, u.id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(assignPamSeat(gw.ctx, { ...admin, permissions: [PERMISSIONS.licenses] }, tenant.id, u.id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(assignPamSeat(gw.ctx, admin, tenant.id, 'nobody')).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    // T3: the tenant has no seats until granted; the default tenant's are not used.
    await expect(assignPamSeat(gw.ctx, admin, tenant.id, u.id)).rejects.toMatchObject({ code: 'NO_LICENSE_AVAILABLE' });
  });

  it('P2 S4: seats expire with their key', async () => {
    await endSerialKey(gw.ctx, keyId, 'expired');
    expect(await seats()).toMatchObject({ granted: 0, assigned: 0 });
    expect((await listPamUsers(gw.ctx, DEFAULT_TENANT)).filter((u) => u.seat)).toEqual([]);
    expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
    // A grant of seats from a new key works as for endpoint licenses.
    await activatePool(gw.ctx, { 'pam-seat': 2 });
    await grantLicenses(gw.ctx, TECHNICIAN, 'hooli', 'pam-seat', 1);
    expect(await seats('hooli')).toMatchObject({ granted: 1 });
  });
});
