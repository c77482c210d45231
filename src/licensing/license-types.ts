/** SPEC L1: license types. Endpoint types license Clients; the PAM seat licenses PAM users. */
export const ENDPOINT_LICENSE_TYPES = ['workstation', 'terminal-server', 'infrastructure-server', 'cloud-server', 'linux'] as const;
export type EndpointLicenseType = (typeof ENDPOINT_LICENSE_TYPES)[number];

export const SEAT_LICENSE_TYPE = 'pam-seat' as const;
export type LicenseTypeName = EndpointLicenseType | typeof SEAT_LICENSE_TYPE;
export const ALL_LICENSE_TYPES: readonly LicenseTypeName[] = [...ENDPOINT_LICENSE_TYPES, SEAT_LICENSE_TYPE];

export function isEndpointLicenseType(value: string): value is EndpointLicenseType {
  return (ENDPOINT_LICENSE_TYPES as readonly string[]).includes(value);
}

/** Why a Client holds no license (Welcome.license.reason). */
export const UNLICENSED_REASONS = ['NO_LICENSE_AVAILABLE', 'NO_MATCHING_TYPE', 'UNASSIGNED_BY_ADMIN', 'KEY_EXPIRED'] as const;
export type UnlicensedReason = (typeof UNLICENSED_REASONS)[number];
