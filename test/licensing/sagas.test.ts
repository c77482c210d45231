/**
 * Sagas finish (SPEC F2): a grant or take-back interrupted between its steps is finished by
 * the ledger's resumer (the start-up path) exactly once, and the invariant checker reports the
 * stranded capacity until then. The periodic path is in test/jobs/ledger-upkeep.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { resumeLedger } from '../../src/licensing/resume-ledger.ts';
import { recordSaga, type SagaRecord } from '../../src/licensing/sagas.ts';
import { createTenant, grantLicenses, reserveGrant, takeBackLicenses, takeBackOut } from '../../src/licensing/tenants.ts';
import { tenantPools } from '../../src/licensing/views.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { activatePool } from '../helpers/ledger.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
  await activatePool(gw.ctx, { linux: 20 }, { multiTenant: true });
  await createTenant(gw.ctx, TECHNICIAN, 'Acme');
});
afterAll(() => gw.stop());

const granted = async (tenant: string) => (await tenantPools(gw.ctx, tenant)).find((p) => p.type === 'linux')!.granted;
const violations = async () => (await checkInvariants(gw.redis, gw.keys)).violations;
async function auditLines(tenant: string, cause: string): Promise<string[]> {
  const entries = (await gw.redis.xrange(gw.keys.audit(tenant), '-', '+')) as [string, string[]][];
  return entries.map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]]])))).filter((e) => e.cause === cause).map((e) => e.action as string);
}
const takeBackSaga = (opId: string, count: number, startedAt = Date.now()): SagaRecord => ({ kind: 'takeBack', opId, tenant: 'acme', type: 'linux', count, force: false, actor: TECHNICIAN.userId, startedAt });

describe('sagas finish', () => {
  it('F2: a grant interrupted between its steps is reported by the checker and finished once by the start-up resumer', async () => {
    const [acme, kept] = [await granted('acme'), await granted(DEFAULT_TENANT)];
    await reserveGrant(gw.ctx, TECHNICIAN, 'acme', 'linux', 3, 'crash-grant-1'); // step two never ran
    expect(await violations()).toEqual([
      expect.stringMatching(/^F2 acme\/linux\/K-\w+: holds 0 < granted 3: capacity stranded between the steps of a grant or take-back$/),
      expect.stringMatching(/^F2 saga grant:crash-grant-1 \(grant acme\/linux ×3\) pending since /),
    ]);

    const report = await resumeLedger(gw.ctx);
    expect(report).toMatchObject({ finished: ['grant:crash-grant-1'], refused: [], left: [] });
    expect([await granted('acme'), await granted(DEFAULT_TENANT)]).toEqual([acme + 3, kept - 3]);
    expect(await violations()).toEqual([]);

    // Running the resumer again, and the job's late retry, change nothing; the retry returns the first result.
    expect((await resumeLedger(gw.ctx)).finished).toEqual([]);
    expect(await grantLicenses(gw.ctx, TECHNICIAN, 'acme', 'linux', 3, 'crash-grant-1')).toEqual({ tenantId: 'acme', type: 'linux', granted: 3, promoted: [] });
    expect([await granted('acme'), await granted(DEFAULT_TENANT)]).toEqual([acme + 3, kept - 3]);
    expect(await auditLines('acme', 'grant:crash-grant-1')).toEqual(['granted-in']);
    expect(await auditLines(DEFAULT_TENANT, 'grant:crash-grant-1')).toEqual(['granted-out']);
    expect(await violations()).toEqual([]);
  });

  it('F2: a take-back interrupted after its first step is reported by the checker and finished once by the start-up resumer', async () => {
    const [acme, kept] = [await granted('acme'), await granted(DEFAULT_TENANT)];
    const saga = takeBackSaga('crash-tb-1', 2);
    await recordSaga(gw.ctx, saga);
    await takeBackOut(gw.ctx, saga); // the tenant gave them up; the default tenant never got them back
    expect(await violations()).toEqual([
      expect.stringMatching(/^F2 acme\/linux\/K-\w+: holds \d+ < granted \d+: capacity stranded/),
      expect.stringMatching(/^F2 saga takeBack:crash-tb-1 \(takeBack acme\/linux ×2\) pending since /),
    ]);

    expect(await resumeLedger(gw.ctx)).toMatchObject({ finished: ['takeBack:crash-tb-1'], refused: [], left: [] });
    expect([await granted('acme'), await granted(DEFAULT_TENANT)]).toEqual([acme - 2, kept + 2]);
    expect(await violations()).toEqual([]);

    expect(await takeBackLicenses(gw.ctx, TECHNICIAN, 'acme', 'linux', 2, false, 'crash-tb-1')).toEqual({ tenantId: 'acme', type: 'linux', takenBack: 2, unassigned: [] });
    expect((await resumeLedger(gw.ctx)).finished).toEqual([]);
    expect([await granted('acme'), await granted(DEFAULT_TENANT)]).toEqual([acme - 2, kept + 2]);
    expect(await auditLines('acme', 'takeback:crash-tb-1')).toEqual(['taken-back']);
    expect(await violations()).toEqual([]);
  });

  it('F2: a take-back recorded but never started is left to its job for a moment, then finished by the resumer', async () => {
    const [acme, kept] = [await granted('acme'), await granted(DEFAULT_TENANT)];
    await recordSaga(gw.ctx, takeBackSaga('crash-tb-2', 1)); // crashed before step one
    expect(await resumeLedger(gw.ctx)).toMatchObject({ finished: [], left: ['takeBack:crash-tb-2'] });
    expect(await violations()).toEqual([expect.stringMatching(/^F2 saga takeBack:crash-tb-2 /)]);

    const later = { ...gw.ctx, now: () => Date.now() + 60_000 };
    expect(await resumeLedger(later)).toMatchObject({ finished: ['takeBack:crash-tb-2'], left: [] });
    expect([await granted('acme'), await granted(DEFAULT_TENANT)]).toEqual([acme - 1, kept + 1]);
    expect(await violations()).toEqual([]);
  });

  it('F2: a take-back whose first step is refused when resumed ends without a change', async () => {
    const before = [await granted('acme'), await granted(DEFAULT_TENANT)];
    await recordSaga(gw.ctx, takeBackSaga('crash-tb-3', 1000, Date.now() - 60_000));
    expect(await resumeLedger(gw.ctx)).toMatchObject({ finished: [], refused: ['takeBack:crash-tb-3'], left: [] });
    expect([await granted('acme'), await granted(DEFAULT_TENANT)]).toEqual(before);
    expect(await violations()).toEqual([]);
  });
});
