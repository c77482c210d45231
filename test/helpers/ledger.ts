/** Serial keys and a ledger context for tests: a vendor keypair made per test file. */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import type { LedgerContext } from '../../src/licensing/ledger-context.ts';
import type { LicenseTypeName } from '../../src/licensing/license-types.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { activateSerialKey } from '../../src/licensing/serial-key-ledger.ts';
import { mintSerialKey, type SerialKeyPayload } from '../../src/licensing/serial-key.ts';
import { generateVendorKeyPair } from '../../src/licensing/vendor-keys.ts';
import type { Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';

export const vendor = (() => {
  const pair = generateVendorKeyPair();
  return { privateKey: createPrivateKey(pair.privateKeyPem), publicKey: createPublicKey(pair.publicKeyPem), ...pair };
})();

export function ledgerContext(redis: RedisClient, keys: Keys, extra: Partial<LedgerContext> = {}): LedgerContext {
  return { redis, keys, vendorKeys: [vendor.publicKey], ...extra };
}

export interface MintOptions {
  kind?: SerialKeyPayload['kind'];
  /** ms since epoch; default: one year from now for subscriptions and trials. */
  expiresAt?: number;
  multiTenant?: boolean;
  keyId?: string;
}

export function mintKey(licenses: Partial<Record<LicenseTypeName, number>>, opts: MintOptions = {}): string {
  const kind = opts.kind ?? 'subscription';
  const issued = new Date(Date.now() - 86_400_000);
  const payload: SerialKeyPayload = {
    v: 1,
    keyId: opts.keyId ?? `K-${randomBytes(5).toString('hex')}`,
    edition: 'test',
    kind,
    licenses,
    issuedAt: issued.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    multiTenant: opts.multiTenant ?? true,
  };
  if (kind !== 'perpetual') {
    const exp = new Date(opts.expiresAt ?? Date.now() + 365 * 86_400_000);
    payload.expiresAt = exp.toISOString();
  }
  return mintSerialKey(payload, vendor.privateKey);
}

/** Mints and activates a key with these licenses; returns its key id. */
export async function activatePool(ctx: LedgerContext, licenses: Partial<Record<LicenseTypeName, number>>, opts: MintOptions = {}): Promise<string> {
  const r = await activateSerialKey(ctx, TECHNICIAN, mintKey(licenses, opts));
  return r.keyId;
}
