/**
 * Admin assign that cannot be carried out changes nothing (issue 8 item 8): the Client keeps
 * its place in the waiting queue (C9) and an admin's unassignment stays pinned (C10).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentOs } from '../../agent-sim/agent.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { assignClient, clientState, setTenantPolicy, unassignClient } from '../../src/licensing/client-admin.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { activatePool } from '../helpers/ledger.ts';
import { snapshot } from '../helpers/snapshot.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ gateway: { heartbeatIntervalMs: 60_000 } });
  await activatePool(gw.ctx, { linux: 1, workstation: 1, 'cloud-server': 1 });
});
afterAll(async () => {
  expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
  await gw.stop();
});

/** Enrolls a Client and disconnects it; returns its id. */
async function enrolledOffline(os: AgentOs): Promise<string> {
  const a = newAgent(gw.url, { os });
  await a.connect();
  await a.close();
  await eventually(async () => (await gw.redis.hexists(gw.keys.online(DEFAULT_TENANT), a.clientId)) === 0, 'the Client is recorded offline');
  return a.clientId;
}
/** The tenants' state (the node registry's beats left out: they change on their own). */
const ledger = async () => Object.fromEntries(Object.entries(await snapshot(gw.redis, gw.keys.prefix)).filter(([k]) => k.includes('{t:')));
const waiting = (type: string) => gw.redis.zrange(gw.keys.waiting(DEFAULT_TENANT, type), '0', '-1', 'WITHSCORES');

describe('a refused admin assign changes nothing', () => {
  it('C9: a Client whose assign fails with NO_LICENSE_AVAILABLE keeps its place in the waiting queue', async () => {
    const holder = await enrolledOffline(OS.linux); // takes the only linux license
    const first = await enrolledOffline(OS.linux);
    await new Promise((r) => setTimeout(r, 5)); // distinct waiting times
    const second = await enrolledOffline(OS.linux);
    const queue = await waiting('linux');
    expect(queue.filter((_, i) => i % 2 === 0)).toEqual([first, second]);

    const before = await ledger();
    await expect(assignClient(gw.ctx, TECHNICIAN, DEFAULT_TENANT, first)).rejects.toMatchObject({ code: 'NO_LICENSE_AVAILABLE' });
    expect(await waiting('linux')).toEqual(queue);
    expect(await ledger()).toEqual(before);

    // The longest-waiting Client still gets the next free license.
    const r = await unassignClient(gw.ctx, TECHNICIAN, DEFAULT_TENANT, holder);
    expect(r.promoted).toEqual([first]);
  });

  it('C10: a Client an admin unassigned keeps UNASSIGNED_BY_ADMIN when a later assign fails', async () => {
    const pinned = await enrolledOffline(OS.windows); // takes the only workstation license
    const other = await enrolledOffline(OS.windows); // waits
    await unassignClient(gw.ctx, TECHNICIAN, DEFAULT_TENANT, pinned); // the license goes to `other`
    expect(await clientState(gw.ctx, DEFAULT_TENANT, pinned)).toMatchObject({ license: null, reason: 'UNASSIGNED_BY_ADMIN' });
    expect(await clientState(gw.ctx, DEFAULT_TENANT, other)).toMatchObject({ license: 'workstation' });

    const before = await ledger();
    await expect(assignClient(gw.ctx, TECHNICIAN, DEFAULT_TENANT, pinned)).rejects.toMatchObject({ code: 'NO_LICENSE_AVAILABLE' });
    expect(await ledger()).toEqual(before);
    expect(await clientState(gw.ctx, DEFAULT_TENANT, pinned)).toMatchObject({ license: null, reason: 'UNASSIGNED_BY_ADMIN' });

    // A freed license is not given to the pinned Client automatically.
    await unassignClient(gw.ctx, TECHNICIAN, DEFAULT_TENANT, other);
    expect(await clientState(gw.ctx, DEFAULT_TENANT, pinned)).toMatchObject({ license: null, reason: 'UNASSIGNED_BY_ADMIN' });
    expect(await gw.redis.zscore(gw.keys.waiting(DEFAULT_TENANT, 'workstation'), pinned)).toBeNull();
  });

  it('C11 C6: with the reclaim policy an admin assign takes the license of the Client offline longest; too recent, it changes nothing', async () => {
    const stale = await enrolledOffline(OS.cloudServer);
    const wanting = await enrolledOffline(OS.cloudServer);
    await setTenantPolicy(gw.ctx, TECHNICIAN, DEFAULT_TENANT, { reclaimAfterDays: 3 });
    await gw.redis.zadd(gw.keys.offlineHolders(DEFAULT_TENANT, 'cloud-server'), Date.now() - 2 * 86_400_000, stale);
    const before = await ledger();
    await expect(assignClient(gw.ctx, TECHNICIAN, DEFAULT_TENANT, wanting)).rejects.toMatchObject({ code: 'NO_LICENSE_AVAILABLE' });
    expect(await ledger()).toEqual(before);

    await gw.redis.zadd(gw.keys.offlineHolders(DEFAULT_TENANT, 'cloud-server'), Date.now() - 4 * 86_400_000, stale);
    expect(await assignClient(gw.ctx, TECHNICIAN, DEFAULT_TENANT, wanting)).toMatchObject({ license: 'cloud-server', reclaimed: stale });
    expect(await clientState(gw.ctx, DEFAULT_TENANT, stale)).toMatchObject({ license: null });
    await setTenantPolicy(gw.ctx, TECHNICIAN, DEFAULT_TENANT, { reclaimAfterDays: 0 });
  });
});
