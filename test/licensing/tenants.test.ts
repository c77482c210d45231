import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { PERMISSIONS, TECHNICIAN, type Actor } from '../../src/licensing/permissions.ts';
import { createTenant, grantLicenses, listTenants, reserveGrant, takeBackLicenses } from '../../src/licensing/tenants.ts';
import { availability, licensesGranted, tenantPools } from '../../src/licensing/views.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { QUIET_NODE, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { activatePool } from '../helpers/ledger.ts';
import { snapshot } from '../helpers/snapshot.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ gateway: { heartbeatIntervalMs: 60_000, ...QUIET_NODE } });
});
afterAll(() => gw.stop());

async function expectOk() {
  expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
}
const pool = async (tenant: string, type: string) => (await tenantPools(gw.ctx, tenant)).find((p) => p.type === type)!;
/** Tokens as createTenant showed them (once): only their hashes are stored (SPEC Z2). */
const tokens = new Map<string, string>();
const acmeAdmin: Actor = { userId: 'alice', tenantId: 'acme', permissions: [PERMISSIONS.clients, PERMISSIONS.licenses, PERMISSIONS.tenants] };

describe('tenants and grants', () => {
  it('T1: tenants need a key that allows multi-tenant mode', async () => {
    const single = await startTestGateway();
    await activatePool(single.ctx, { workstation: 1 }, { multiTenant: false });
    await expect(createTenant(single.ctx, TECHNICIAN, 'Acme')).rejects.toMatchObject({ code: 'MULTI_TENANT_NOT_ALLOWED' });
    await single.stop();
  });

  it('T1 T5 S3: the technician creates tenants and grants them licenses from the default pool', async () => {
    await activatePool(gw.ctx, { workstation: 20, linux: 10, 'pam-seat': 4 }, { multiTenant: true });
    const acme = await createTenant(gw.ctx, TECHNICIAN, 'Acme');
    const globex = await createTenant(gw.ctx, TECHNICIAN, 'Globex Corp');
    expect(acme).toMatchObject({ id: 'acme', name: 'Acme' });
    expect(globex.id).toBe('globex-corp');
    expect(acme.enrollmentToken).toMatch(/^lgt_/);
    tokens.set(acme.id, acme.enrollmentToken);
    tokens.set(globex.id, globex.enrollmentToken);
    // One tenant per name (issue 12); another name with the same slug gets the next free id.
    await expect(createTenant(gw.ctx, TECHNICIAN, ' ACME ')).rejects.toMatchObject({ code: 'TENANT_EXISTS' });
    expect((await createTenant(gw.ctx, TECHNICIAN, 'Acme!')).id).toBe('acme-2');
    expect((await listTenants(gw.ctx)).map((t) => t.id)).toEqual(['default', 'acme', 'acme-2', 'globex-corp']);

    await grantLicenses(gw.ctx, TECHNICIAN, 'acme', 'workstation', 5);
    await grantLicenses(gw.ctx, TECHNICIAN, 'globex-corp', 'workstation', 3);
    await grantLicenses(gw.ctx, TECHNICIAN, 'acme', 'pam-seat', 2);
    expect((await availability(gw.ctx)).find((r) => r.type === 'workstation')).toEqual({ type: 'workstation', total: 20, granted: 8, assigned: 0, available: 12 });
    const granted = await licensesGranted(gw.ctx);
    expect(granted.find((r) => r.tenant === 'acme' && r.type === 'workstation')).toEqual({ tenant: 'acme', type: 'workstation', granted: 5, assigned: 0, available: 5 });
    expect(granted.find((r) => r.tenant === 'acme' && r.type === 'pam-seat')).toMatchObject({ granted: 2 });
    await expectOk();
  });

  it('T1 L4: a grant above the default tenant\'s available pool is refused and changes nothing', async () => {
    // The refusal is stored as the op's result (so a retry returns it, F3); the ledger is unchanged.
    const ledger = async () => Object.fromEntries(Object.entries(await snapshot(gw.redis, gw.keys.prefix)).filter(([k]) => !k.includes(':op:')));
    const before = await ledger();
    await expect(grantLicenses(gw.ctx, TECHNICIAN, 'acme', 'linux', 11)).rejects.toMatchObject({ code: 'NOT_ENOUGH_LICENSES' });
    await expect(grantLicenses(gw.ctx, TECHNICIAN, 'nope', 'linux', 1)).rejects.toMatchObject({ code: 'UNKNOWN_TENANT' });
    await expect(grantLicenses(gw.ctx, TECHNICIAN, 'acme', 'linux', 0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await ledger()).toEqual(before);
  });

  it('T2: granting needs Tenant Management and an actor in the default tenant', async () => {
    await expect(grantLicenses(gw.ctx, acmeAdmin, 'acme', 'linux', 1)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(grantLicenses(gw.ctx, { ...TECHNICIAN, permissions: [PERMISSIONS.licenses] }, 'acme', 'linux', 1)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(takeBackLicenses(gw.ctx, acmeAdmin, 'acme', 'workstation', 1, false)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('T6 T3: a tenant\'s Clients enroll with its own token and draw only on its own pool', async () => {
    const acmeToken = tokens.get('acme')!;
    const agents = Array.from({ length: 7 }, () => newAgent(gw.url, { tenantId: 'acme', enrollmentToken: acmeToken, os: OS.windows }));
    const welcomes = await Promise.all(agents.map((a) => a.connect()));
    expect(welcomes.filter((w) => w.license.licensed)).toHaveLength(5);
    expect(await pool('acme', 'workstation')).toMatchObject({ granted: 5, assigned: 5, available: 0, waiting: 2 });
    expect(await pool('globex-corp', 'workstation')).toMatchObject({ granted: 3, assigned: 0 });
    expect(await pool(DEFAULT_TENANT, 'workstation')).toMatchObject({ granted: 12, assigned: 0 });
    await Promise.all(agents.map((a) => a.close()));
    await expectOk();
  });

  it('T4: taking back below what is assigned is refused without force and changes nothing', async () => {
    const before = await snapshot(gw.redis, gw.keys.prefix);
    await expect(takeBackLicenses(gw.ctx, TECHNICIAN, 'acme', 'workstation', 1, false)).rejects.toMatchObject({ code: 'LICENSES_IN_USE' });
    await expect(takeBackLicenses(gw.ctx, TECHNICIAN, 'acme', 'workstation', 6, true)).rejects.toMatchObject({ code: 'NOT_ENOUGH_LICENSES' });
    expect(await snapshot(gw.redis, gw.keys.prefix)).toEqual(before);
  });

  it('T4 C7: a forced take-back unassigns longest-offline first, online last, with StopMonitoring', async () => {
    const globexToken = tokens.get('globex-corp')!;
    const mk = () => newAgent(gw.url, { tenantId: 'globex-corp', enrollmentToken: globexToken, os: OS.windows });
    const [oldest, recent, online] = [mk(), mk(), mk()];
    for (const a of [oldest, recent, online]) {
      expect((await a.connect()).license.licensed).toBe(true);
      expect(a.monitoring).toBe(true);
    }
    await oldest.close();
    await new Promise((r) => setTimeout(r, 20)); // distinct last-seen times
    await recent.close();
    const r = await takeBackLicenses(gw.ctx, TECHNICIAN, 'globex-corp', 'workstation', 2, true);
    expect(r.unassigned).toEqual([oldest.clientId, recent.clientId]);
    expect(await pool('globex-corp', 'workstation')).toMatchObject({ granted: 1, assigned: 1 });
    expect(await pool(DEFAULT_TENANT, 'workstation')).toMatchObject({ granted: 14 });
    // The offline ones get StopMonitoring when they return; the online one kept its license.
    await oldest.connect();
    await oldest.waitFor(() => oldest.commands.some((c) => c.kind === 'stop'));
    expect(oldest.commands.at(-1)).toMatchObject({ kind: 'stop', reason: 'TAKEN_BACK' });
    expect(oldest.monitoring).toBe(false);
    expect(online.monitoring).toBe(true);
    await Promise.all([oldest.close(), online.close()]);
    await expectOk();
  });

  it('T1 L4 F2: a grant interrupted between its steps leaves capacity unused, and its retry completes it once', async () => {
    const before = await pool('acme', 'linux');
    const defaultBefore = await pool(DEFAULT_TENANT, 'linux');
    await reserveGrant(gw.ctx, TECHNICIAN, 'acme', 'linux', 3, 'op-crash-1'); // the second step never ran
    // F2: the checker reports the capacity stranded between the steps and the pending saga.
    expect((await checkInvariants(gw.redis, gw.keys)).violations).toEqual([
      expect.stringMatching(/^F2 acme\/linux\/K-\w+: holds \d+ < granted \d+: capacity stranded/),
      expect.stringMatching(/^F2 saga grant:op-crash-1 /),
    ]);
    expect(await pool('acme', 'linux')).toMatchObject({ granted: before.granted });
    expect(await pool(DEFAULT_TENANT, 'linux')).toMatchObject({ granted: defaultBefore.granted - 3 });
    await grantLicenses(gw.ctx, TECHNICIAN, 'acme', 'linux', 3, 'op-crash-1'); // the job's retry
    await grantLicenses(gw.ctx, TECHNICIAN, 'acme', 'linux', 3, 'op-crash-1'); // and a duplicate
    expect(await pool('acme', 'linux')).toMatchObject({ granted: before.granted + 3 });
    expect(await pool(DEFAULT_TENANT, 'linux')).toMatchObject({ granted: defaultBefore.granted - 3 });
    await expectOk();
  });

  it('T1 C9: licenses granted to a tenant go to its waiting Clients at once', async () => {
    expect(await pool('acme', 'workstation')).toMatchObject({ waiting: 2 });
    const r = await grantLicenses(gw.ctx, TECHNICIAN, 'acme', 'workstation', 1);
    expect(r.promoted).toHaveLength(1);
    expect(await pool('acme', 'workstation')).toMatchObject({ granted: 6, assigned: 6, waiting: 1 });
    await expectOk();
  });
});
