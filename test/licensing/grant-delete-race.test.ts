/**
 * A grant or take-back racing a tenant.delete of the same tenant (SPEC T1, F2, A5). Both sagas
 * run in two slots (the default tenant's and the tenant's), and a delete is a check followed by
 * an atomic script in the tenant's slot, so the steps can interleave. Every interleaving is made
 * here deterministically by running the real steps (reserveGrant / deliverGrant, takeBackOut /
 * runTakeBack, the delete-tenant script) in that order, and after each the ledger must balance:
 * no license lost (granted to a tenant that is gone) and none created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { runJsonScript } from '../../src/licensing/ledger-context.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { resumeLedger } from '../../src/licensing/resume-ledger.ts';
import { recordSaga, type SagaRecord } from '../../src/licensing/sagas.ts';
import { deleteTenant } from '../../src/licensing/tenant-lifecycle.ts';
import { releaseNamesOf } from '../../src/licensing/tenant-names.ts';
import { createTenant, deliverGrant, grantLicenses, reserveGrant, runTakeBack, takeBackLicenses, takeBackOut } from '../../src/licensing/tenants.ts';
import { tenantPools } from '../../src/licensing/views.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { activatePool } from '../helpers/ledger.ts';
import { scanKeys } from '../helpers/redis.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
  await activatePool(gw.ctx, { linux: 20 }, { multiTenant: true });
});
afterAll(() => gw.stop());

const kept = async () => (await tenantPools(gw.ctx, DEFAULT_TENANT)).find((p) => p.type === 'linux')!.granted;
const violations = async () => (await checkInvariants(gw.redis, gw.keys)).violations;
const grantsTo = async (tenant: string) => Object.keys(await gw.redis.hgetall(gw.keys.grants())).filter((f) => f.startsWith(`${tenant}|`));
/** Keys left in a deleted tenant's slot, op results (they expire) aside. */
const leftovers = async (tenant: string) => (await scanKeys(gw.redis, `${gw.keys.tenantBase(tenant)}*`)).filter((k) => !k.includes(':op:'));
async function defaultAudit(cause: string): Promise<string[]> {
  const entries = (await gw.redis.xrange(gw.keys.audit(DEFAULT_TENANT), '-', '+')) as [string, string[]][];
  return entries.map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]]])))).filter((e) => e.cause === cause).map((e) => e.action as string);
}
/** The part of tenantDelete after its grants check: the atomic script, then the indexes. */
async function deleteAfterItsCheck(tenant: string): Promise<void> {
  await runJsonScript(gw.ctx, 'deleteTenant', tenant, []);
  await releaseNamesOf(gw.ctx, tenant);
  await gw.redis.hdel(gw.keys.tenantClaims(), tenant);
  await gw.redis.srem(gw.keys.tenants(), tenant);
}

describe('grant and take-back racing tenant.delete', () => {
  it('T1: a grant to a tenant that does not exist is refused (UNKNOWN_TENANT) before anything is taken', async () => {
    const before = await kept();
    await expect(grantLicenses(gw.ctx, TECHNICIAN, 'ghost', 'linux', 2, 'ghost-1')).rejects.toMatchObject({ code: 'UNKNOWN_TENANT' });
    expect(await kept()).toBe(before);
    expect(await grantsTo('ghost')).toEqual([]);
    expect(await gw.redis.hlen(gw.keys.sagas())).toBe(0);
    expect(await defaultAudit('grant:ghost-1')).toEqual([]);
    expect(await violations()).toEqual([]);
  });

  it('T1 F2: the invariant checker reports licenses granted to a tenant that is not listed (stranded)', async () => {
    const field = `nobody|K-none|linux`;
    await gw.redis.hset(gw.keys.grants(), field, 3);
    try {
      expect(await violations()).toContainEqual(expect.stringMatching(/^T1 grant nobody\|K-none\|linux = 3 to a tenant that does not exist/));
    } finally {
      await gw.redis.hdel(gw.keys.grants(), field);
    }
  });

  it('T1 F2 A5: a delete landing after the grant checked the tenant but before its first step: the second step refuses (UNKNOWN_TENANT) and the licenses go back to the default pool', async () => {
    const t = await createTenant(gw.ctx, TECHNICIAN, 'Race One');
    const before = await kept();
    // grantLicenses checked the tenant here; then the delete ran to the end.
    await deleteTenant(gw.ctx, TECHNICIAN, t.id);
    await reserveGrant(gw.ctx, TECHNICIAN, t.id, 'linux', 3, 'race-1').then((saga) =>
      expect(deliverGrant(gw.ctx, saga)).rejects.toMatchObject({ code: 'UNKNOWN_TENANT' }),
    );
    expect(await kept()).toBe(before);
    expect(await grantsTo(t.id)).toEqual([]);
    expect(await leftovers(t.id)).toEqual([]);
    expect(await defaultAudit('grant:race-1')).toEqual(['granted-out', 'grant-returned']);
    expect(await violations()).toEqual([]);
  });

  it('T1 F2: a delete whose emptiness check ran before the grant\'s first step and whose script ran after it: the grant is returned, nothing is stranded', async () => {
    const t = await createTenant(gw.ctx, TECHNICIAN, 'Race Two');
    const before = await kept();
    const saga = await reserveGrant(gw.ctx, TECHNICIAN, t.id, 'linux', 4, 'race-2');
    await deleteAfterItsCheck(t.id);
    await expect(deliverGrant(gw.ctx, saga)).rejects.toMatchObject({ code: 'UNKNOWN_TENANT' });
    expect(await kept()).toBe(before);
    expect(await grantsTo(t.id)).toEqual([]);
    expect(await leftovers(t.id)).toEqual([]);
    expect(await violations()).toEqual([]);

    // The job's retry (same op id) changes nothing, even once a new tenant has the same id.
    await createTenant(gw.ctx, TECHNICIAN, 'Race Two');
    await expect(grantLicenses(gw.ctx, TECHNICIAN, t.id, 'linux', 4, 'race-2')).rejects.toMatchObject({ code: 'UNKNOWN_TENANT' });
    expect(await kept()).toBe(before);
    expect(await grantsTo(t.id)).toEqual([]);
    expect(await defaultAudit('grant:race-2')).toEqual(['granted-out', 'grant-returned']);
    expect(await violations()).toEqual([]);
  });

  it('T1 F2: the resumer finishing a grant whose tenant was deleted between the steps returns the licenses (refused, not left)', async () => {
    const t = await createTenant(gw.ctx, TECHNICIAN, 'Race Three');
    const before = await kept();
    await reserveGrant(gw.ctx, TECHNICIAN, t.id, 'linux', 2, 'race-3'); // the job crashed here
    await deleteAfterItsCheck(t.id);
    expect(await resumeLedger(gw.ctx)).toMatchObject({ finished: [], refused: ['grant:race-3'], left: [] });
    expect(await kept()).toBe(before);
    expect(await grantsTo(t.id)).toEqual([]);
    expect(await violations()).toEqual([]);
  });

  it('T1 F2: a delete after the grant\'s first step is refused (TENANT_NOT_EMPTY) and the grant completes', async () => {
    const t = await createTenant(gw.ctx, TECHNICIAN, 'Race Four');
    const before = await kept();
    const saga = await reserveGrant(gw.ctx, TECHNICIAN, t.id, 'linux', 2, 'race-4');
    await expect(deleteTenant(gw.ctx, TECHNICIAN, t.id)).rejects.toMatchObject({ code: 'TENANT_NOT_EMPTY' });
    await expect(deliverGrant(gw.ctx, saga)).resolves.toMatchObject({ tenantId: t.id, granted: 2 });
    expect(await kept()).toBe(before - 2);
    expect(await violations()).toEqual([]);
    await takeBackLicenses(gw.ctx, TECHNICIAN, t.id, 'linux', 2, false);
    await deleteTenant(gw.ctx, TECHNICIAN, t.id);
    expect(await kept()).toBe(before);
    expect(await violations()).toEqual([]);
  });

  it('T4 F2: a delete between a take-back\'s steps is refused (TENANT_NOT_EMPTY) and the take-back completes; after it the delete succeeds', async () => {
    const t = await createTenant(gw.ctx, TECHNICIAN, 'Race Five');
    const before = await kept();
    await grantLicenses(gw.ctx, TECHNICIAN, t.id, 'linux', 3);
    const saga: SagaRecord = { kind: 'takeBack', opId: 'race-5', tenant: t.id, type: 'linux', count: 3, force: false, actor: TECHNICIAN.userId, startedAt: Date.now() };
    await recordSaga(gw.ctx, saga);
    await takeBackOut(gw.ctx, saga); // the tenant holds nothing now; the default tenant has not got them back
    await expect(deleteTenant(gw.ctx, TECHNICIAN, t.id)).rejects.toMatchObject({ code: 'TENANT_NOT_EMPTY' });
    await runTakeBack(gw.ctx, saga);
    expect(await kept()).toBe(before);
    expect(await violations()).toEqual([]);
    await deleteTenant(gw.ctx, TECHNICIAN, t.id);
    expect(await leftovers(t.id)).toEqual([]);
    expect(await violations()).toEqual([]);
  });

  it('T4 F2: a take-back whose first step lands after a delete is refused (UNKNOWN_TENANT), its record goes, and the deleted tenant\'s slot stays empty', async () => {
    const t = await createTenant(gw.ctx, TECHNICIAN, 'Race Six');
    const before = await kept();
    const saga: SagaRecord = { kind: 'takeBack', opId: 'race-6', tenant: t.id, type: 'linux', count: 1, force: false, actor: TECHNICIAN.userId, startedAt: Date.now() };
    await recordSaga(gw.ctx, saga); // takeBackLicenses checked the tenant and recorded the saga here
    await deleteTenant(gw.ctx, TECHNICIAN, t.id);
    await expect(runTakeBack(gw.ctx, saga)).rejects.toMatchObject({ code: 'UNKNOWN_TENANT' });
    expect(await gw.redis.hlen(gw.keys.sagas())).toBe(0);
    expect(await kept()).toBe(before);
    expect(await leftovers(t.id)).toEqual([]);
    expect(await violations()).toEqual([]);
  });
});
