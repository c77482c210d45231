/**
 * When the dev vendor key is trusted (SPEC Z2). Its private key lies unencrypted in
 * DATA_DIR/dev-vendor, so anyone who can read DATA_DIR can mint serial keys it verifies: fine
 * for a laptop's zero-config run, never for a deployment. DEV_LICENSE:
 * - `auto` (default): trusted only in the zero-config mode (embedded Redis, no REDIS_URL /
 *   REDIS_SENTINELS / REDIS_CLUSTER_NODES);
 * - `on`: trusted whatever the Redis (a test bed on a shared Redis that wants the dev licenses);
 * - `off`: never, even zero-config.
 * The gateway (serve.ts) and the admin CLI (admin-connection.ts) are the only places that add
 * the dev public key to the vendor keys, and both ask devLicenseTrusted; VENDOR_PUBLIC_KEYS is
 * the operator's explicit list and is taken as given.
 */
export const DEV_LICENSE_MODES = ['auto', 'on', 'off'] as const;
export type DevLicenseMode = (typeof DEV_LICENSE_MODES)[number];

export function isDevLicenseMode(value: string): value is DevLicenseMode {
  return (DEV_LICENSE_MODES as readonly string[]).includes(value);
}

/** `zeroConfig`: no Redis target configured, so licensegate runs (or reaches) its embedded Redis. */
export function devLicenseTrusted(mode: DevLicenseMode, zeroConfig: boolean): boolean {
  return mode === 'on' || (mode === 'auto' && zeroConfig);
}
