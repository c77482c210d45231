/**
 * The zero-config default's licenses (REDIS_URL unset): a dev vendor keypair kept in
 * DATA_DIR/dev-vendor and a perpetual, multi-tenant dev serial key signed with it, activated
 * once (activation is idempotent, so restarts do not add licenses). Trusted only as DEV_LICENSE
 * says (src/licensing/dev-license-mode.ts: by default only when no Redis target is set), and
 * then loudly: a warn line at every start.
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
import { activateSerialKey, type SerialKeyRecord } from './serial-key-ledger.ts';
import type { DevLicenseMode } from './dev-license-mode.ts';
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

/** loadDevLicense, plus the warn line every start with a trusted dev key logs (SPEC Z2). */
export function loadTrustedDevLicense(dataDir: string, mode: DevLicenseMode, logger: Logger): DevLicense | undefined {
  const dev = loadDevLicense(dataDir, logger);
  if (dev) {
    logger.warn(
      { devLicense: mode, keyId: DEV_KEY_ID, dir: join(dataDir, 'dev-vendor') },
      `DEVELOPMENT LICENSE: the dev vendor key is trusted (${mode === 'on' ? 'DEV_LICENSE=on' : 'zero-config mode'}; its private key lies in DATA_DIR/dev-vendor) — not for production; production sets REDIS_URL (or DEV_LICENSE=off) and activates a vendor serial key`,
    );
  }
  return dev;
}

/** A dev key activated earlier (zero-config, same Redis) still counts where it is not trusted: say how to remove it. */
export function warnUntrustedDevKey(serials: readonly SerialKeyRecord[], logger: Logger): void {
  if (!serials.some((k) => k.payload.keyId === DEV_KEY_ID && k.status === 'active')) return;
  logger.warn({ keyId: DEV_KEY_ID }, 'the dev serial key is active in this Redis, though the dev license is not trusted here: remove it with `licensegate admin serial remove dev-key`');
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
