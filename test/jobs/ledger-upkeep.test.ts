/**
 * The periodic half of SPEC F2: a repeatable job on the scheduler queue runs the ledger's
 * resumer, so interrupted sagas (grants, take-backs, key removal and expiry) finish without a
 * restart — one job per interval however many processes register it.
 */
import type { Worker } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerScheduler, startSchedulerWorker } from '../../src/jobs/scheduler.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { runJsonScript } from '../../src/licensing/ledger-context.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { listSerialKeys } from '../../src/licensing/serial-key-ledger.ts';
import { createTenant, reserveGrant } from '../../src/licensing/tenants.ts';
import { tenantPools } from '../../src/licensing/views.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { activatePool } from '../helpers/ledger.ts';
import { openRedis } from '../helpers/redis.ts';

let gw: TestGateway;
let conn: RedisClient;
const schedulers: LedgerScheduler[] = [];
let worker: Worker;
beforeAll(async () => {
  gw = await startTestGateway();
  conn = openRedis({ maxRetriesPerRequest: null });
});
afterAll(async () => {
  await worker?.close();
  for (const s of schedulers) await s.close();
  conn.disconnect();
  await gw.stop();
});

describe('ledger upkeep', () => {
  it('F2 S4: the periodic upkeep job finishes a stranded grant and a half-removed key without a restart', async () => {
    await activatePool(gw.ctx, { linux: 10 }, { multiTenant: true });
    const doomed = await activatePool(gw.ctx, { workstation: 4 }, { kind: 'perpetual' });
    await createTenant(gw.ctx, TECHNICIAN, 'Acme');
    await reserveGrant(gw.ctx, TECHNICIAN, 'acme', 'linux', 4, 'upkeep-grant-1'); // crashed after step one
    await runJsonScript(gw.ctx, 'keyStatus', DEFAULT_TENANT, [doomed, 'removing', Date.now()]); // crashed after marking the key
    expect((await checkInvariants(gw.redis, gw.keys)).violations).toEqual([
      expect.stringMatching(/^F2 acme\/linux\/K-\w+: holds 0 < granted 4/),
      expect.stringMatching(/^F2 saga grant:upkeep-grant-1 /),
      `F2 key ${doomed} is removing: its end saga has not finished`,
    ]);

    // Two processes register the upkeep: still one scheduler, one job per interval.
    for (let i = 0; i < 2; i++) {
      const s = new LedgerScheduler(conn, gw.keys.queuePrefix);
      schedulers.push(s);
      await s.startUpkeep(200);
    }
    expect(await schedulers[0]!.queue.getJobSchedulersCount()).toBe(1);
    worker = startSchedulerWorker(conn, gw.keys.queuePrefix, gw.ctx, pino({ level: 'silent' }));

    await eventually(async () => (await checkInvariants(gw.redis, gw.keys)).ok, 'the upkeep job finished both sagas', 15_000);
    expect((await tenantPools(gw.ctx, 'acme')).find((p) => p.type === 'linux')).toMatchObject({ granted: 4 });
    expect((await listSerialKeys(gw.ctx)).find((k) => k.payload.keyId === doomed)?.status).toBe('removed');
  });
});
