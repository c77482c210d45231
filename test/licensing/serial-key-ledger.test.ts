import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvents } from '../../src/events/admin-events.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import type { LedgerContext } from '../../src/licensing/ledger-context.ts';
import { PERMISSIONS, TECHNICIAN } from '../../src/licensing/permissions.ts';
import { activateSerialKey, expireDueKeys, listSerialKeys, removeSerialKey, warningsDue, warnKeyExpiring } from '../../src/licensing/serial-key-ledger.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { availability, tenantPools } from '../../src/licensing/views.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { activatePool, ledgerContext, mintKey } from '../helpers/ledger.ts';
import { connectRedis, newKeys } from '../helpers/redis.ts';
import { snapshot } from '../helpers/snapshot.ts';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connectRedis();
});
afterAll(() => redis.disconnect());

async function freshLedger(extra: Partial<LedgerContext> = {}): Promise<LedgerContext> {
  const keys = newKeys('sk');
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: 'ledger-test-token-01' });
  return ledgerContext(redis, keys, extra);
}

const row = async (ctx: LedgerContext, type: string) => (await availability(ctx)).find((r) => r.type === type)!;

async function expectOk(ctx: LedgerContext, now?: number) {
  expect(await checkInvariants(ctx.redis, ctx.keys, now)).toEqual({ ok: true, violations: [] });
}

describe('serial keys in the ledger', () => {
  it('S2 S3: activating a key adds its licenses to the default tenant; availability shows them', async () => {
    const ctx = await freshLedger();
    await activatePool(ctx, { workstation: 50, linux: 20, 'pam-seat': 5 });
    expect(await row(ctx, 'workstation')).toEqual({ type: 'workstation', total: 50, granted: 0, assigned: 0, available: 50 });
    expect(await row(ctx, 'pam-seat')).toMatchObject({ total: 5, available: 5 });
    expect(await row(ctx, 'cloud-server')).toMatchObject({ total: 0, available: 0 });
    await expectOk(ctx);
  });

  it('S2: activating the same key twice changes nothing', async () => {
    const ctx = await freshLedger();
    const key = mintKey({ workstation: 10 });
    const first = await activateSerialKey(ctx, TECHNICIAN, key);
    expect(first.status).toBe('ACTIVATED');
    const before = await snapshot(redis, ctx.keys.prefix);
    const again = await activateSerialKey(ctx, TECHNICIAN, key);
    expect(again.status).toBe('ALREADY_ACTIVE');
    const after = await snapshot(redis, ctx.keys.prefix);
    // Only the append-only event stream may differ (it does not: no event for a no-op).
    expect(after).toEqual(before);
    expect((await row(ctx, 'workstation')).total).toBe(10);
  });

  it('S2: several active keys pool together', async () => {
    const ctx = await freshLedger();
    await activatePool(ctx, { workstation: 10, linux: 1 });
    await activatePool(ctx, { workstation: 5 }, { kind: 'perpetual' });
    expect(await row(ctx, 'workstation')).toMatchObject({ total: 15, available: 15 });
    expect(await row(ctx, 'linux')).toMatchObject({ total: 1 });
    await expectOk(ctx);
  });

  it('S1: a tampered, foreign-signed or unsigned key is refused with SERIAL_KEY_INVALID and changes nothing', async () => {
    const ctx = await freshLedger();
    const key = mintKey({ workstation: 10 });
    const [prefix, payload, signature] = key.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), licenses: { workstation: 10_000 } })).toString('base64url');
    const before = await snapshot(redis, ctx.keys.prefix);
    for (const bad of [`${prefix}.${forged}.${signature}`, `${prefix}.${payload}`, `${prefix}.${payload}.`, key.slice(0, -10), 'LG1.garbage.garbage']) {
      await expect(activateSerialKey(ctx, TECHNICIAN, bad)).rejects.toMatchObject({ code: 'SERIAL_KEY_INVALID' });
    }
    const other = await freshLedger({ vendorKeys: [] });
    await expect(activateSerialKey(other, TECHNICIAN, key)).rejects.toMatchObject({ code: 'VENDOR_KEYS_MISSING' });
    expect(await snapshot(redis, ctx.keys.prefix)).toEqual(before);
  });

  it('S4: a key that already expired cannot be activated', async () => {
    const ctx = await freshLedger();
    await expect(activateSerialKey(ctx, TECHNICIAN, mintKey({ workstation: 1 }, { expiresAt: Date.now() - 1000 }))).rejects.toMatchObject({ code: 'SERIAL_KEY_EXPIRED' });
  });

  it('T2 A2: only a default-tenant actor with Tenant Management may activate or remove keys', async () => {
    const ctx = await freshLedger();
    const noPerm = { ...TECHNICIAN, permissions: [PERMISSIONS.licenses, PERMISSIONS.clients] };
    const otherTenant = { ...TECHNICIAN, tenantId: 'acme' };
    await expect(activateSerialKey(ctx, noPerm, mintKey({ workstation: 1 }))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(activateSerialKey(ctx, otherTenant, mintKey({ workstation: 1 }))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const keyId = await activatePool(ctx, { workstation: 1 });
    await expect(removeSerialKey(ctx, noPerm, keyId)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('S2 S4: activating a purchased key expires every active trial key', async () => {
    const ctx = await freshLedger();
    const trial = await activatePool(ctx, { workstation: 3 }, { kind: 'trial' });
    const bought = await activateSerialKey(ctx, TECHNICIAN, mintKey({ linux: 2 }));
    expect(bought.expiredTrials).toEqual([trial]);
    const recs = await listSerialKeys(ctx);
    expect(recs.find((r) => r.payload.keyId === trial)?.status).toBe('expired');
    expect(await row(ctx, 'workstation')).toMatchObject({ total: 0 });
    // A second trial stays active when another trial is activated.
    const t2 = await activatePool(ctx, { workstation: 1 }, { kind: 'trial' });
    await activatePool(ctx, { workstation: 1 }, { kind: 'trial' });
    expect((await listSerialKeys(ctx)).find((r) => r.payload.keyId === t2)?.status).toBe('active');
    await expectOk(ctx);
  });

  it('S4: expiry with fake time ends exactly the keys that expired (expireDueKeys)', async () => {
    let clock = Date.now();
    const ctx = await freshLedger({ now: () => clock });
    const soon = await activatePool(ctx, { workstation: 4 }, { expiresAt: clock + 10 * 86_400_000 });
    const later = await activatePool(ctx, { workstation: 6 }, { expiresAt: clock + 100 * 86_400_000 });
    expect(await expireDueKeys(ctx)).toEqual([]);
    clock += 11 * 86_400_000;
    expect(await expireDueKeys(ctx)).toEqual([soon]);
    const recs = await listSerialKeys(ctx);
    expect(Object.fromEntries(recs.map((r) => [r.payload.keyId, r.status]))).toEqual({ [soon]: 'expired', [later]: 'active' });
    expect(await row(ctx, 'workstation')).toMatchObject({ total: 6, available: 6 });
    expect((await readEvents(redis, ctx.keys, DEFAULT_TENANT)).filter((e) => e.type === 'key.expired').map((e) => e.data.keyId)).toEqual([soon]);
    await expectOk(ctx, clock);
  });

  it('S5: warnings are due 15 days and 1 day before expiry and reach admin services as events', async () => {
    const ctx = await freshLedger();
    const exp = Date.now() + 20 * 86_400_000;
    const keyId = await activatePool(ctx, { workstation: 1 }, { expiresAt: exp });
    const rec = (await listSerialKeys(ctx))[0]!;
    expect(warningsDue(rec, exp - 16 * 86_400_000)).toEqual([]);
    expect(warningsDue(rec, exp - 15 * 86_400_000)).toEqual(['15d']);
    expect(warningsDue(rec, exp - 86_400_000)).toEqual(['15d', '1d']);
    expect(warningsDue(rec, exp + 1)).toEqual([]);
    await warnKeyExpiring(ctx, keyId, '15d');
    const events = (await readEvents(redis, ctx.keys, DEFAULT_TENANT)).filter((e) => e.type === 'key.expiring');
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toMatchObject({ keyId, warning: '15d' });
  });

  it('S4: removing a key unassigns its licenses like expiry', async () => {
    const ctx = await freshLedger();
    const keyId = await activatePool(ctx, { 'pam-seat': 2 });
    const r = await removeSerialKey(ctx, TECHNICIAN, keyId);
    expect(r.keyId).toBe(keyId);
    expect((await listSerialKeys(ctx))[0]!.status).toBe('removed');
    expect((await tenantPools(ctx, DEFAULT_TENANT)).find((p) => p.type === 'pam-seat')).toMatchObject({ granted: 0 });
    await expect(activateSerialKey(ctx, TECHNICIAN, (await listSerialKeys(ctx))[0]!.key)).rejects.toMatchObject({ code: 'SERIAL_KEY_REMOVED' });
    await expectOk(ctx);
  });
});
