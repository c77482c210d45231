/**
 * SPEC F6 with F2: a big change runs as several bounded script calls, and stopping between
 * any two of them (a crash) leaves a consistent ledger that the next run finishes: a forced
 * take-back, a key's withdrawal, and promotions of waiting Clients (the periodic pass).
 * Sizes exceed one call's budget of 500 license changes, so each change takes several calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addHolders, addWaiting } from '../../bench/lib/big-tenant.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { runJsonScript, type LedgerContext } from '../../src/licensing/ledger-context.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { resumePendingPromotions } from '../../src/licensing/promotion.ts';
import { endSerialKey } from '../../src/licensing/serial-key-ledger.ts';
import { createTenant, ensureTenant, grantLicenses, takeBackLicenses } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, newKeys } from '../helpers/redis.ts';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connectRedis();
});
afterAll(() => redis.disconnect());

async function ledger(): Promise<{ ctx: LedgerContext; keys: Keys }> {
  const keys = newKeys('resume');
  await ensureTenant(redis, keys, DEFAULT_TENANT);
  return { ctx: ledgerContext(redis, keys), keys };
}
const expectOk = async (keys: Keys) => expect(await checkInvariants(redis, keys)).toEqual({ ok: true, violations: [] });
/**
 * Between two batches of a saga's step: every invariant holds (assigned ≤ granted above all),
 * and the checker reports the unfinished saga itself (F2), as it must until it is finished.
 */
async function expectSafeMidway(keys: Keys): Promise<void> {
  const { violations } = await checkInvariants(redis, keys);
  expect(violations.filter((v) => !v.startsWith('F2 '))).toEqual([]);
  expect(violations.some((v) => v.startsWith('F2 '))).toBe(true);
}

describe('bounded work resumed after a stop between batches', () => {
  it('F6 F2 T4: a forced take-back stopped after its first batch keeps assigned ≤ granted, and its retry finishes it with the first result', async () => {
    const { ctx, keys } = await ledger();
    const keyId = await activatePool(ctx, { linux: 1500 });
    const tenant = await createTenant(ctx, TECHNICIAN, 'Resume Co');
    await grantLicenses(ctx, TECHNICIAN, tenant.id, 'linux', 1500);
    // Every other one offline; last seen rises with the index.
    const ids = await addHolders(redis, keys, tenant.id, keyId, { prefix: 'h', count: 1500, type: 'linux' });
    const victims = [...ids.filter((_, i) => i % 2 === 1), ...ids.filter((_, i) => i % 2 === 0)].slice(0, 1200);

    const first = await runJsonScript<{ done: boolean }>(ctx, 'takeBackOut', tenant.id, ['takeback:op-r1', 'linux', 1200, '1', Date.now(), 'technician', 'takeback:op-r1']);
    expect(first.done).toBe(false); // the process "crashes" here
    const midway = await redis.scard(keys.holders(tenant.id, 'linux'));
    expect(midway).toBeLessThan(1500);
    expect(midway).toBeGreaterThan(300);
    await expectSafeMidway(keys);

    const r = await takeBackLicenses(ctx, TECHNICIAN, tenant.id, 'linux', 1200, true, 'op-r1');
    expect(r.unassigned).toEqual(victims);
    expect(await redis.scard(keys.holders(tenant.id, 'linux'))).toBe(300);
    expect(await redis.hget(keys.alloc(tenant.id), `${keyId}|linux`)).toBe('300');
    expect(await takeBackLicenses(ctx, TECHNICIAN, tenant.id, 'linux', 1200, true, 'op-r1')).toEqual(r);
    expect(await redis.hget(keys.alloc(DEFAULT_TENANT), `${keyId}|linux`)).toBe('1200');
    await expectOk(keys);
  });

  it('F6 F2 S4: a key withdrawal stopped after its first batch keeps assigned ≤ granted, and ending the key again finishes it and counts every loss', async () => {
    const { ctx, keys } = await ledger();
    const ending = await activatePool(ctx, { linux: 1200 }, { expiresAt: Date.now() + 86_400_000 });
    const staying = await activatePool(ctx, { linux: 1400 });
    const onEnding = await addHolders(redis, keys, DEFAULT_TENANT, ending, { prefix: 'e', count: 1200, type: 'linux' });
    await addHolders(redis, keys, DEFAULT_TENANT, staying, { prefix: 's', count: 1200, type: 'linux' });

    await runJsonScript(ctx, 'keyStatus', DEFAULT_TENANT, [ending, 'expiring', Date.now(), 'system', `expiry:${ending}`]);
    const first = await runJsonScript<{ done: boolean }>(ctx, 'withdrawKey', DEFAULT_TENANT, [ending, 'KEY_EXPIRED', Date.now(), 'system', `expiry:${ending}`]);
    expect(first.done).toBe(false); // the process "crashes" here
    await expectSafeMidway(keys);

    expect(await endSerialKey(ctx, ending, 'expired')).toBe(1000);
    const holders = new Set(await redis.smembers(keys.holders(DEFAULT_TENANT, 'linux')));
    expect(holders.size).toBe(1400);
    // The 200 that moved are the online ones seen most recently (the last even indexes).
    const movers = onEnding.filter((_, i) => i % 2 === 0).slice(-200);
    expect(onEnding.filter((id) => holders.has(id))).toEqual(movers);
    await expectOk(keys);
  });

  it('F6 F2 C9: promotions a crash left pending are finished by the periodic pass, online Clients first, longest waiting first', async () => {
    const { ctx, keys } = await ledger();
    const waiting = await addWaiting(redis, keys, DEFAULT_TENANT, { prefix: 'w', count: 3000, type: 'linux' });
    const payload = { v: 1, keyId: 'K-resume-1', edition: 'test', kind: 'perpetual', licenses: { linux: 1000 }, issuedAt: '2026-01-01T00:00:00Z', multiTenant: false };
    // The activation script alone: its caller "crashes" before draining the promotions.
    await runJsonScript(ctx, 'activateKey', DEFAULT_TENANT, ['K-resume-1', JSON.stringify({ payload, key: 'x' }), 0, Date.now(), 'technician', 'test', '', 'linux', 1000]);
    expect(await redis.exists(keys.promoting(DEFAULT_TENANT))).toBe(1);
    expect(await redis.scard(keys.holders(DEFAULT_TENANT, 'linux'))).toBeLessThan(1000);
    await expectOk(keys);

    expect(await resumePendingPromotions(ctx)).toMatchObject({ tenants: 1 });
    const holders = new Set(await redis.smembers(keys.holders(DEFAULT_TENANT, 'linux')));
    expect(holders).toEqual(new Set(waiting.filter((_, i) => i % 2 === 0).slice(0, 1000)));
    expect(await redis.exists(keys.promoting(DEFAULT_TENANT))).toBe(0);
    expect(await resumePendingPromotions(ctx)).toEqual({ tenants: 0, promoted: 0 });
    await expectOk(keys);
  });
});
