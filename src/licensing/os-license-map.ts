/**
 * SPEC L2: which endpoint license type an operating system needs. The mapping is data: an
 * ordered table whose first matching row wins. Operators replace it with OS_LICENSE_MAP_FILE
 * (a JSON array of rows in the same shape); see the README.
 */
import { z } from 'zod';
import { ENDPOINT_LICENSE_TYPES, type EndpointLicenseType } from './license-types.ts';

export const OS_FAMILIES = ['windows', 'macos', 'linux'] as const;
export const PRODUCT_TYPES = ['workstation', 'server'] as const;

export const osLicenseRuleSchema = z
  .object({
    /** OS family the row applies to. */
    family: z.enum(OS_FAMILIES),
    /** Edition; omitted = any. */
    productType: z.enum(PRODUCT_TYPES).optional(),
    /** Multi-session (RDS) on; omitted = any. */
    multiSession: z.boolean().optional(),
    /** Reports a cloud provider; omitted = any. */
    cloud: z.boolean().optional(),
    /** License type the row assigns. */
    type: z.enum(ENDPOINT_LICENSE_TYPES),
  })
  .strict();
export type OsLicenseRule = z.infer<typeof osLicenseRuleSchema>;
export const osLicenseMapSchema = z.array(osLicenseRuleSchema).min(1);

/** The OS facts the table matches on (decoded from Hello.os). */
export interface OsFacts {
  family: (typeof OS_FAMILIES)[number] | 'unspecified';
  productType: (typeof PRODUCT_TYPES)[number] | 'unspecified';
  multiSession: boolean;
  cloudProvider: string;
}

/** The default table (SPEC L2). Linux is always `linux`, cloud or not. */
export const DEFAULT_OS_LICENSE_MAP: readonly OsLicenseRule[] = [
  { family: 'linux', type: 'linux' },
  { family: 'macos', type: 'workstation' },
  { family: 'windows', productType: 'workstation', type: 'workstation' },
  { family: 'windows', productType: 'server', cloud: true, type: 'cloud-server' },
  { family: 'windows', productType: 'server', multiSession: true, type: 'terminal-server' },
  { family: 'windows', productType: 'server', type: 'infrastructure-server' },
];

/** The license type for these OS facts, or null when no row matches (NO_MATCHING_TYPE). */
export function licenseTypeForOs(os: OsFacts, table: readonly OsLicenseRule[] = DEFAULT_OS_LICENSE_MAP): EndpointLicenseType | null {
  const cloud = os.cloudProvider.trim().length > 0;
  for (const row of table) {
    if (row.family !== os.family) continue;
    if (row.productType !== undefined && row.productType !== os.productType) continue;
    if (row.multiSession !== undefined && row.multiSession !== os.multiSession) continue;
    if (row.cloud !== undefined && row.cloud !== cloud) continue;
    return row.type;
  }
  return null;
}
