/**
 * SPEC A5 with S4: a serial key's end changes licenses in every tenant holding some, so it is
 * on the audit trail — the key's end in the default tenant, and each tenant's grant withdrawn,
 * both in that tenant and in the default tenant — with actor, reason, time, before, after, cause.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit, type AuditEntry } from '../../src/licensing/audit.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import type { LedgerContext } from '../../src/licensing/ledger-context.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { endSerialKey, removeSerialKey } from '../../src/licensing/serial-key-ledger.ts';
import { createTenant, ensureTenant, grantLicenses } from '../../src/licensing/tenants.ts';
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
  const keys = newKeys('audit');
  await ensureTenant(redis, keys, DEFAULT_TENANT);
  return { ctx: ledgerContext(redis, keys), keys };
}

const lines = (entries: AuditEntry[], action: string) => entries.filter((e) => e.action === action).map(({ holder, type, before, after, reason, actor, cause }) => ({ holder, type, before, after, reason, actor, cause }));

describe('audit of a key\'s end', () => {
  it('A5 S4: an expiring key is audited in the default tenant, and each tenant\'s withdrawn grant in that tenant and in the default tenant', async () => {
    const { ctx, keys } = await ledger();
    const keyId = await activatePool(ctx, { linux: 5, workstation: 2 }, { expiresAt: Date.now() + 86_400_000 });
    const acme = await createTenant(ctx, TECHNICIAN, 'Acme');
    await grantLicenses(ctx, TECHNICIAN, acme.id, 'linux', 3);
    const t0 = Date.now();
    await endSerialKey(ctx, keyId, 'expired');

    const own = await readAudit(ctx, DEFAULT_TENANT, { since: t0 });
    const cause = `expiry:${keyId}`;
    // One line per license type the key carried.
    expect(lines(own, 'key-expired')).toHaveLength(2);
    expect(lines(own, 'key-expired')).toEqual(expect.arrayContaining([
      { holder: keyId, type: 'workstation', before: '2', after: '0', reason: 'KEY_EXPIRED', actor: 'system', cause },
      { holder: keyId, type: 'linux', before: '5', after: '0', reason: 'KEY_EXPIRED', actor: 'system', cause },
    ]));
    expect(lines(own, 'grant-withdrawn')).toEqual([{ holder: `${acme.id}|${keyId}`, type: 'linux', before: '3', after: '0', reason: 'KEY_EXPIRED', actor: 'system', cause }]);
    expect(lines(await readAudit(ctx, acme.id, { since: t0 }), 'grant-withdrawn')).toEqual([{ holder: keyId, type: 'linux', before: '3', after: '0', reason: 'KEY_EXPIRED', actor: 'system', cause }]);
    for (const e of own.filter((x) => x.action === 'key-expired' || x.action === 'grant-withdrawn')) expect(e.ts).toBeGreaterThanOrEqual(t0);

    // Ending it again (a retried saga) writes nothing more.
    await endSerialKey(ctx, keyId, 'expired');
    expect(lines(await readAudit(ctx, DEFAULT_TENANT, { since: t0 }), 'key-expired')).toHaveLength(2);
    expect(lines(await readAudit(ctx, acme.id, { since: t0 }), 'grant-withdrawn')).toHaveLength(1);
    expect(await checkInvariants(redis, keys)).toEqual({ ok: true, violations: [] });
  });

  it('A5 S4: a removed key is audited with the admin who removed it and the job that did', async () => {
    const { ctx, keys } = await ledger();
    const keyId = await activatePool(ctx, { linux: 4 });
    const acme = await createTenant(ctx, TECHNICIAN, 'Acme');
    await grantLicenses(ctx, TECHNICIAN, acme.id, 'linux', 1);
    const t0 = Date.now();
    await removeSerialKey(ctx, TECHNICIAN, keyId, 'job:remove-1');
    const want = { reason: 'KEY_REMOVED', actor: TECHNICIAN.userId, cause: 'job:remove-1' };
    const own = await readAudit(ctx, DEFAULT_TENANT, { since: t0 });
    expect(lines(own, 'key-removed')).toEqual([{ holder: keyId, type: 'linux', before: '4', after: '0', ...want }]);
    expect(lines(own, 'grant-withdrawn')).toEqual([{ holder: `${acme.id}|${keyId}`, type: 'linux', before: '1', after: '0', ...want }]);
    expect(lines(await readAudit(ctx, acme.id, { since: t0 }), 'grant-withdrawn')).toEqual([{ holder: keyId, type: 'linux', before: '1', after: '0', ...want }]);
    expect(await checkInvariants(redis, keys)).toEqual({ ok: true, violations: [] });
  });
});
