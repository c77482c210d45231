import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { endSerialKey } from '../../src/licensing/serial-key-ledger.ts';
import { createTenant, grantLicenses, takeBackLicenses } from '../../src/licensing/tenants.ts';
import { availability, licensesGranted } from '../../src/licensing/views.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { activatePool } from '../helpers/ledger.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ gateway: { heartbeatIntervalMs: 60_000 } });
});
afterAll(() => gw.stop());

describe('ledger under concurrency', () => {
  it('L3 L4 L5 T1 T4 S4: 400 racing grants, forced take-backs, enrollments and a key expiry never oversubscribe', async () => {
    const k1 = await activatePool(gw.ctx, { workstation: 60, linux: 40 }, { expiresAt: Date.now() + 86_400_000 });
    await activatePool(gw.ctx, { workstation: 40 });
    const tenants = await Promise.all(['A', 'B', 'C'].map((n) => createTenant(gw.ctx, TECHNICIAN, `Race ${n}`)));
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 150; i++) {
      const t = tenants[i % 3]!;
      ops.push(grantLicenses(gw.ctx, TECHNICIAN, t.id, i % 2 ? 'workstation' : 'linux', 1 + (i % 3)).catch((e: { code?: string }) => e.code));
      if (i % 3 === 0) ops.push(takeBackLicenses(gw.ctx, TECHNICIAN, t.id, 'workstation', 1, true).catch((e: { code?: string }) => e.code));
    }
    const agents = [
      ...Array.from({ length: 150 }, (_, i) => newAgent(gw.url, { os: i % 2 ? OS.windows : OS.linux })),
      ...tenants.flatMap((t) => Array.from({ length: 20 }, (_, i) => newAgent(gw.url, { tenantId: t.id, enrollmentToken: t.enrollmentToken, os: i % 2 ? OS.windows : OS.linux }))),
    ];
    ops.push(...agents.map((a) => a.connect()));
    ops.push(new Promise((r) => setTimeout(r, 30)).then(() => endSerialKey(gw.ctx, k1, 'expired')));
    const results = await Promise.allSettled(ops);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    // Only the refusals the rules allow.
    const codes = new Set(results.map((r) => (r as PromiseFulfilledResult<unknown>).value).filter((v) => typeof v === 'string'));
    for (const c of codes) expect(['NOT_ENOUGH_LICENSES']).toContain(c);

    expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
    for (const row of await licensesGranted(gw.ctx)) expect(row.assigned).toBeLessThanOrEqual(row.granted);
    const ws = (await availability(gw.ctx)).find((r) => r.type === 'workstation')!;
    expect(ws.total).toBe(40);
    expect(ws.granted + ws.assigned).toBeLessThanOrEqual(40);
    await Promise.all(agents.map((a) => a.close()));
  });
});
