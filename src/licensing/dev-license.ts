/**
 * The zero-config default's licenses (REDIS_URL unset): a dev vendor keypair kept in
 * DATA_DIR/dev-vendor and a perpetual, multi-tenant dev serial key signed with it, activated
 * once (activation is idempotent, so restarts do not add licenses). Never used when REDIS_URL
 * is set.
 *
 * Start-up never fails because of it: a dev key an admin removed (the README's walkthrough
 * does) or that ended stays so, with one info line; unreadable dev vendor files are logged with
 * how to recover, and the gateway starts without the dev key.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { LicensegateError } from '../errors.ts';
import type { LedgerContext } from './ledger-context.ts';
import { ENDPOINT_LICENSE_TYPES, type LicenseTypeName } from './license-types.ts';
import { TECHNICIAN } from './permissions.ts';
import { mintSerialKey } from './serial-key.ts';
import { activateSerialKey } from './serial-key-ledger.ts';
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

/** devLicense for start-up: undefined (logged, with the recovery) when DATA_DIR/dev-vendor is unreadable. */
export function loadDevLicense(dataDir: string, logger: Logger): DevLicense | undefined {
  try {
    return devLicense(dataDir);
  } catch (err) {
    const dir = join(dataDir, 'dev-vendor');
    logger.error(
      { err: { message: (err as Error).message }, dir, recovery: `move ${dir} aside and start again: a new dev vendor key pair is made (the dev key is never activated twice)` },
      'dev vendor key pair unreadable; starting without the dev serial key',
    );
    return undefined;
  }
}

/**
 * Activates the dev key once. A dev key that was removed or ended stays so (S4): one info line
 * says so. Any other failure is logged; the gateway still starts.
 */
export async function activateDevLicense(ctx: LedgerContext, dev: DevLicense, logger: Logger): Promise<void> {
  try {
    const r = await activateSerialKey(ctx, TECHNICIAN, dev.serialKey, 'dev-default');
    if (r.status === 'ACTIVATED') logger.info({ keyId: r.keyId }, 'dev serial key activated (zero-config default)');
  } catch (err) {
    if (err instanceof LicensegateError && (err.code === 'SERIAL_KEY_REMOVED' || err.code === 'SERIAL_KEY_EXPIRED')) {
      const status = err.code === 'SERIAL_KEY_REMOVED' ? 'removed' : 'expired';
      logger.info({ keyId: DEV_KEY_ID, status }, `dev serial key was ${status}; it stays ${status} (activate your own key: licensegate admin serial activate)`);
      return;
    }
    logger.error({ err, keyId: DEV_KEY_ID, recovery: 'see the error; `licensegate admin serial list` shows the stored keys' }, 'dev serial key not activated; starting without it');
  }
}
