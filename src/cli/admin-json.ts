/**
 * The `licensegate admin --json` contract for the rows whose shape scripts rely on: exactly
 * these fields, in this order, whatever else the AdminApi's rows carry later.
 */
import type { LicenseTypeName } from '../licensing/license-types.ts';
import type { AvailabilityRow, GrantedRow } from '../licensing/views.ts';

/** `admin licenses --json`: one per license type (SPEC S3). */
export interface AvailabilityJson {
  type: LicenseTypeName;
  total: number;
  /** Granted to tenants other than the default one (whether or not they assigned them). */
  granted: number;
  /** Assigned in the default tenant only; other tenants' use is in `tenants granted`. */
  assigned: number;
  /** total − granted − assigned: what the default tenant can still assign or grant. */
  available: number;
}

/** `admin tenants granted --json`: one per tenant and license type (SPEC T5). */
export interface GrantedJson {
  tenant: string;
  type: LicenseTypeName;
  granted: number;
  assigned: number;
  available: number;
}

/** `admin pam list --json` (issue 12): the tenant's PAM seat pool and who holds a seat. */
export interface PamSeatsJson {
  tenant: string;
  granted: number;
  assigned: number;
  available: number;
  seats: { userId: string; name: string }[];
}

/** `--json` failures, exit code 1. */
export interface FailureJson {
  error: { code: string; message: string };
}

export function availabilityJson(rows: readonly AvailabilityRow[]): AvailabilityJson[] {
  return rows.map(({ type, total, granted, assigned, available }) => ({ type, total, granted, assigned, available }));
}

export function grantedJson(rows: readonly GrantedRow[]): GrantedJson[] {
  return rows.map(({ tenant, type, granted, assigned, available }) => ({ tenant, type, granted, assigned, available }));
}
