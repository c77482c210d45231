/**
 * The licensing state a scenario starts from, written straight into its fresh Redis before any
 * gateway runs: fresh key and queue prefixes, the default tenant with a known enrollment token,
 * serial keys minted with the run's own vendor keypair, other tenants and their grants.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import type { LedgerContext } from '../../src/licensing/ledger-context.ts';
import type { LicenseTypeName } from '../../src/licensing/license-types.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { activateSerialKey } from '../../src/licensing/serial-key-ledger.ts';
import { mintSerialKey, type SerialKeyPayload } from '../../src/licensing/serial-key.ts';
import { createTenant, ensureTenant, grantLicenses } from '../../src/licensing/tenants.ts';
import { generateVendorKeyPair } from '../../src/licensing/vendor-keys.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';

/** One vendor keypair per run of the suite. */
const vendor = generateVendorKeyPair();

export interface KeySpec {
  keyId: string;
  kind: 'perpetual' | 'subscription';
  licenses: Partial<Record<LicenseTypeName, number>>;
}

export interface LedgerSpec {
  keys: KeySpec[];
  /** Tenants besides the default one, with what is granted to each at the start. */
  tenants?: { id: string; grants: Partial<Record<LicenseTypeName, number>> }[];
  /** A condition on the fresh key prefix (e.g. where its keys land on a Cluster); tried anew until it holds. */
  acceptKeys?: (keys: Keys) => Promise<boolean>;
}

export interface ChaosLedger {
  keys: Keys;
  /** Enrollment token per tenant id. */
  tokens: Map<string, string>;
  /** Environment every licensegate process of the scenario gets (REDIS_URL aside). */
  env: Record<string, string>;
}

async function freshKeys(accept?: (keys: Keys) => Promise<boolean>): Promise<Keys> {
  for (let attempt = 1; ; attempt++) {
    const tag = randomBytes(4).toString('hex');
    const keys = new Keys(`chaos-${tag}`, `{chaos-${tag}}`);
    if (!accept || (await accept(keys))) return keys;
    if (attempt >= 200) throw new Error('no key prefix met the scenario\'s condition in 200 tries');
  }
}

export async function prepareLedger(redis: RedisClient, spec: LedgerSpec, dataDir: string): Promise<ChaosLedger> {
  const keys = await freshKeys(spec.acceptKeys);
  const defaultToken = `chaos-enroll-${randomBytes(12).toString('hex')}`;
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: defaultToken });
  const ctx: LedgerContext = { redis, keys, vendorKeys: [createPublicKey(vendor.publicKeyPem)] };
  const day = 86_400_000;
  for (const k of spec.keys) {
    const payload: SerialKeyPayload = {
      v: 1,
      keyId: k.keyId,
      edition: 'chaos',
      kind: k.kind,
      licenses: k.licenses,
      issuedAt: new Date(Date.now() - day).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      multiTenant: true,
    };
    if (k.kind === 'subscription') payload.expiresAt = new Date(Date.now() + 365 * day).toISOString();
    const r = await activateSerialKey(ctx, TECHNICIAN, mintSerialKey(payload, vendor.privateKeyPem), 'chaos-setup');
    if (r.status !== 'ACTIVATED') throw new Error(`serial key ${k.keyId} not activated: ${r.status}`);
  }
  const tokens = new Map([[DEFAULT_TENANT, defaultToken]]);
  for (const t of spec.tenants ?? []) {
    const info = await createTenant(ctx, TECHNICIAN, t.id, t.id);
    tokens.set(info.id, info.enrollmentToken);
    for (const [type, count] of Object.entries(t.grants)) {
      if (count) await grantLicenses(ctx, TECHNICIAN, info.id, type as LicenseTypeName, count, `chaos-setup-${info.id}-${type}`);
    }
  }
  return {
    keys,
    tokens,
    env: {
      KEY_PREFIX: keys.prefix,
      QUEUE_PREFIX: keys.queuePrefix,
      ENROLLMENT_TOKEN: defaultToken,
      VENDOR_PUBLIC_KEYS: vendor.publicKeyPem,
      DATA_DIR: dataDir,
    },
  };
}
