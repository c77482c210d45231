/**
 * The zero-config default's licenses (REDIS_URL unset): a dev vendor keypair kept in
 * DATA_DIR/dev-vendor and a perpetual, multi-tenant dev serial key signed with it, activated
 * once (activation is idempotent, so restarts do not add licenses). Never used when REDIS_URL
 * is set.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { ENDPOINT_LICENSE_TYPES, type LicenseTypeName } from './license-types.ts';
import { mintSerialKey } from './serial-key.ts';
import { loadPrivateKey, loadPublicKey, VendorKeyExistsError, VENDOR_PRIVATE_KEY_FILE, VENDOR_PUBLIC_KEY_FILE, writeVendorKeyPair } from './vendor-keys.ts';

export const DEV_KEY_ID = 'dev-key';
export const DEV_LICENSES: Partial<Record<LicenseTypeName, number>> = {
  ...Object.fromEntries(ENDPOINT_LICENSE_TYPES.map((t) => [t, 100])),
  'pam-seat': 10,
};

export interface DevLicense {
  publicKey: KeyObject;
  serialKey: string;
}

export function devLicense(dataDir: string): DevLicense {
  const dir = join(dataDir, 'dev-vendor');
  if (!existsSync(join(dir, VENDOR_PRIVATE_KEY_FILE))) {
    try {
      writeVendorKeyPair(dir);
    } catch (err) {
      if (!(err instanceof VendorKeyExistsError)) throw err; // another process made it first
    }
  }
  const privateKey = loadPrivateKey(join(dir, VENDOR_PRIVATE_KEY_FILE));
  const publicKey = loadPublicKey(join(dir, VENDOR_PUBLIC_KEY_FILE));
  const serialKey = mintSerialKey(
    { v: 1, keyId: DEV_KEY_ID, edition: 'development', kind: 'perpetual', licenses: DEV_LICENSES, issuedAt: '2026-01-01T00:00:00Z', multiTenant: true },
    privateKey,
  );
  return { publicKey, serialKey };
}
