/**
 * The big changes SPEC F6 bounds, each on a freshly built tenant of `n` Clients, timed by
 * SLOWLOG (./script-timing.ts) and checked for the right outcome:
 *  - promote: n Clients wait (every other one online); a key of n/2 licenses is activated:
 *    exactly the online ones get a license (C9: online first).
 *  - expiry: n/2 Clients hold licenses of a key that ends, n/2 of a key with n/5 to spare: n/5
 *    move silently, the rest lose theirs, offline before online, least recently seen first (S4).
 *  - take-back: a tenant holds n licenses from two keys, n Clients (one in four offline); a
 *    forced take-back of n/2 unassigns every offline Client and then the online ones seen least
 *    recently (T4), whichever key they were charged to; the rest fit the keys that remain.
 * Used by the bench scenario lua-bounds (n = 100,000) and by test/licensing/lua-bounds.test.ts.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import type { LedgerContext } from '../../src/licensing/ledger-context.ts';
import type { LicenseTypeName } from '../../src/licensing/license-types.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { activateSerialKey, endSerialKey } from '../../src/licensing/serial-key-ledger.ts';
import { mintSerialKey } from '../../src/licensing/serial-key.ts';
import { createTenant, ensureTenant, grantLicenses, takeBackLicenses } from '../../src/licensing/tenants.ts';
import { generateVendorKeyPair } from '../../src/licensing/vendor-keys.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import { addHolders, addWaiting } from './big-tenant.ts';
import { timeScripts, type ScriptTiming } from './script-timing.ts';

export const LUA_BOUND_CASES = ['promote', 'expiry', 'take-back'] as const;
export type LuaBoundCase = (typeof LUA_BOUND_CASES)[number];

export interface LuaBoundResult {
  case: LuaBoundCase;
  clients: number;
  timing: ScriptTiming;
  /** Wall time of the operation (ms), including the caller's round trips. */
  wallMs: number;
  /** Outcome checks: each must be true. */
  checks: Record<string, boolean>;
  /** Invariant violations after the operation (none expected). */
  violations: string[];
}

const vendor = generateVendorKeyPair();
const TYPE: LicenseTypeName = 'linux';

function mint(keyId: string, count: number, expiresAt: number | null, multiTenant = true): string {
  return mintSerialKey(
    {
      v: 1,
      keyId,
      edition: 'bench',
      kind: expiresAt === null ? 'perpetual' : 'subscription',
      licenses: { [TYPE]: count },
      issuedAt: new Date(Date.now() - 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(expiresAt === null ? {} : { expiresAt: new Date(expiresAt).toISOString() }),
      multiTenant,
    },
    vendor.privateKeyPem,
  );
}

async function fresh(redis: Redis): Promise<{ ctx: LedgerContext; keys: Keys; tag: string }> {
  const tag = randomBytes(3).toString('hex');
  const keys = new Keys(`lb-${tag}`, `{lb-${tag}}`);
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: `lb-${tag}-token` });
  return { ctx: { redis, keys, vendorKeys: [createPublicKey(vendor.publicKeyPem)] }, keys, tag };
}

const sameSet = (a: Iterable<string>, b: Iterable<string>) => {
  const x = new Set(a);
  const y = [...b];
  return x.size === y.length && y.every((id) => x.has(id));
};

async function timed<T>(redis: Redis, fn: () => Promise<T>): Promise<{ timing: ScriptTiming; value: T; wallMs: number }> {
  const t0 = performance.now();
  const r = await timeScripts(redis, fn);
  return { ...r, wallMs: Math.round(performance.now() - t0) };
}

async function promoteCase(redis: Redis, n: number): Promise<LuaBoundResult> {
  const { ctx, keys, tag } = await fresh(redis);
  const ids = await addWaiting(redis, keys, DEFAULT_TENANT, { prefix: `w${tag}`, count: n, type: TYPE });
  const online = ids.filter((_, i) => i % 2 === 0);
  const key = mint(`LB-P-${tag}`, n / 2, null);
  const r = await timed(redis, () => activateSerialKey(ctx, TECHNICIAN, key));
  const holders = await redis.smembers(keys.holders(DEFAULT_TENANT, TYPE));
  const inv = await checkInvariants(redis, keys);
  return {
    case: 'promote',
    clients: n,
    ...r,
    checks: { activated: r.value.status === 'ACTIVATED', 'every online waiting Client is licensed, no offline one': sameSet(holders, online) },
    violations: inv.violations,
  };
}

async function expiryCase(redis: Redis, n: number): Promise<LuaBoundResult> {
  const { ctx, keys, tag } = await fresh(redis);
  const ending = (await activateSerialKey(ctx, TECHNICIAN, mint(`LB-E-${tag}`, n / 2, Date.now() + 86_400_000))).keyId;
  const staying = (await activateSerialKey(ctx, TECHNICIAN, mint(`LB-S-${tag}`, n / 2 + n / 5, null))).keyId;
  const onEnding = await addHolders(redis, keys, DEFAULT_TENANT, ending, { prefix: `e${tag}`, count: n / 2, type: TYPE });
  await addHolders(redis, keys, DEFAULT_TENANT, staying, { prefix: `s${tag}`, count: n / 2, type: TYPE });
  // Victim order among the ending key's holders: offline (odd index) by last seen, then online.
  const order = [...onEnding.filter((_, i) => i % 2 === 1), ...onEnding.filter((_, i) => i % 2 === 0)];
  const losers = order.slice(0, n / 2 - n / 5);
  const r = await timed(redis, () => endSerialKey(ctx, ending, 'expired'));
  const holders = new Set(await redis.smembers(keys.holders(DEFAULT_TENANT, TYPE)));
  const inv = await checkInvariants(redis, keys);
  return {
    case: 'expiry',
    clients: n,
    ...r,
    checks: {
      'reported unassigned = n/2 − n/5': r.value === n / 2 - n / 5,
      'the first in victim order lost their license': losers.every((id) => !holders.has(id)),
      'the rest moved to the key with room': holders.size === n / 2 + n / 5 && (await redis.scard(keys.keyHolders(DEFAULT_TENANT, staying, TYPE))) === n / 2 + n / 5,
    },
    violations: inv.violations,
  };
}

async function takeBackCase(redis: Redis, n: number): Promise<LuaBoundResult> {
  const { ctx, keys, tag } = await fresh(redis);
  const later = (await activateSerialKey(ctx, TECHNICIAN, mint(`LB-L-${tag}`, (n * 3) / 5, Date.now() + 300 * 86_400_000))).keyId;
  const sooner = (await activateSerialKey(ctx, TECHNICIAN, mint(`LB-O-${tag}`, (n * 2) / 5, Date.now() + 100 * 86_400_000))).keyId;
  const tenant = await createTenant(ctx, TECHNICIAN, `Big ${tag}`);
  await grantLicenses(ctx, TECHNICIAN, tenant.id, TYPE, n);
  // Holders interleave over both keys (global index g: even on the later key, odd on the sooner
  // one); last seen rises with g and one in four is offline, so the T4 order is: offline by g,
  // then online by g.
  const base = Date.now() - 10 * 86_400_000;
  const online = (g: number) => g % 4 !== 0;
  const onLater = await addHolders(redis, keys, tenant.id, later, { prefix: `t${tag}`, count: (n * 3) / 5, type: TYPE, online: (i) => online(2 * i), lastSeen: (i) => base + 2 * i });
  const onSooner = await addHolders(redis, keys, tenant.id, sooner, { prefix: `u${tag}`, count: (n * 2) / 5, type: TYPE, online: (i) => online(2 * i + 1), lastSeen: (i) => base + 2 * i + 1 });
  const byG = [...onLater.map((id, i) => ({ id, g: 2 * i })), ...onSooner.map((id, i) => ({ id, g: 2 * i + 1 }))];
  byG.sort((a, b) => Number(online(a.g)) - Number(online(b.g)) || a.g - b.g);
  const victims = byG.slice(0, n / 2).map((s) => s.id);
  const r = await timed(redis, () => takeBackLicenses(ctx, TECHNICIAN, tenant.id, TYPE, n / 2, true));
  const holders = new Set(await redis.smembers(keys.holders(tenant.id, TYPE)));
  const inv = await checkInvariants(redis, keys);
  return {
    case: 'take-back',
    clients: n,
    ...r,
    checks: {
      'unassigned exactly the n/2 first in T4 order': sameSet(r.value.unassigned, victims),
      'n/2 keep their license': holders.size === n / 2 && victims.every((id) => !holders.has(id)),
    },
    violations: inv.violations,
  };
}

export async function runLuaBoundCase(redis: Redis, which: LuaBoundCase, n: number): Promise<LuaBoundResult> {
  if (n % 20 !== 0) throw new Error(`clients must be a multiple of 20, got ${n}`);
  switch (which) {
    case 'promote':
      return promoteCase(redis, n);
    case 'expiry':
      return expiryCase(redis, n);
    case 'take-back':
      return takeBackCase(redis, n);
  }
}
