/**
 * SPEC T4: a forced take-back unassigns the tenant's Clients longest-offline first, then the
 * online ones seen least recently — across the whole tenant, whichever serial key each
 * license was charged to; the Clients that keep theirs are re-charged so every key fits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { createTenant, grantLicenses, takeBackLicenses } from '../../src/licensing/tenants.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { activatePool } from '../helpers/ledger.ts';

let gw: TestGateway;
beforeAll(async () => {
  // No heartbeat flush during the test: last-seen times stay those of connect and close.
  gw = await startTestGateway({ gateway: { heartbeatIntervalMs: 60_000, lastSeenFlushMs: 600_000 } });
});
afterAll(() => gw.stop());

/** Waits until the clock has moved past `t`, so that the next event gets a later last-seen. */
const tick = async (t = Date.now()) => eventually(() => Date.now() > t + 1, 'the clock moves on', 1000, 1);

describe('forced take-back victims', () => {
  it('T4 C7: victims are the tenant\'s longest-offline Clients, then the online ones seen least recently, whichever key they were charged to', async () => {
    const later = await activatePool(gw.ctx, { linux: 3 }, { expiresAt: Date.now() + 300 * 86_400_000 });
    const sooner = await activatePool(gw.ctx, { linux: 3 }, { expiresAt: Date.now() + 100 * 86_400_000 });
    const tenant = await createTenant(gw.ctx, TECHNICIAN, 'Two Keys Inc');
    await grantLicenses(gw.ctx, TECHNICIAN, tenant.id, 'linux', 6);

    const agents: Agent[] = [];
    for (let i = 0; i < 6; i++) {
      const a = newAgent(gw.url, { tenantId: tenant.id, enrollmentToken: tenant.enrollmentToken, os: OS.linux });
      expect((await a.connect()).license.licensed).toBe(true);
      agents.push(a);
      await tick();
    }
    const [c1, c2, c3, c4, c5, c6] = agents as [Agent, Agent, Agent, Agent, Agent, Agent];
    // Charged to the key that expires last first: c1-c3 to `later`, c4-c6 to `sooner`.
    expect(new Set(await gw.redis.smembers(gw.keys.keyHolders(tenant.id, later, 'linux')))).toEqual(new Set([c1, c2, c3].map((a) => a.clientId)));
    expect(new Set(await gw.redis.smembers(gw.keys.keyHolders(tenant.id, sooner, 'linux')))).toEqual(new Set([c4, c5, c6].map((a) => a.clientId)));
    // c5 goes offline first, then c2.
    for (const a of [c5, c2]) {
      await a.close();
      await eventually(async () => (await gw.redis.hexists(gw.keys.online(tenant.id), a.clientId)) === 0, 'the Client is offline');
      await tick();
    }
    const seen = await Promise.all(agents.map(async (a) => Number(await gw.redis.hget(gw.keys.client(tenant.id, a.clientId), 'lastSeen'))));
    expect(new Set(seen).size).toBe(6);

    const r = await takeBackLicenses(gw.ctx, TECHNICIAN, tenant.id, 'linux', 4, true);
    // Longest offline (c5, then c2), then online by last seen (c1, then c3): two from each key.
    expect(r.unassigned).toEqual([c5, c2, c1, c3].map((a) => a.clientId));
    for (const a of [c1, c3]) {
      await a.waitFor(() => !a.monitoring);
      expect(a.commands.at(-1)).toMatchObject({ kind: 'stop', reason: 'TAKEN_BACK' });
    }
    // c4 and c6 keep monitoring, re-charged to the key the tenant still holds licenses of.
    expect(c4.monitoring && c6.monitoring).toBe(true);
    expect(c4.commands.concat(c6.commands).filter((c) => c.kind === 'stop')).toEqual([]);
    expect(await gw.redis.hget(gw.keys.alloc(tenant.id), `${later}|linux`)).toBe('2');
    expect(await gw.redis.hget(gw.keys.alloc(tenant.id), `${sooner}|linux`)).toBeNull();
    expect(new Set(await gw.redis.smembers(gw.keys.keyHolders(tenant.id, later, 'linux')))).toEqual(new Set([c4, c6].map((a) => a.clientId)));
    expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
    await Promise.all([c1, c3, c4, c6].map((a) => a.close()));
  });
});
