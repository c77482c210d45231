/**
 * The permission names of SPEC A2 and the default tenant's id: part of the public job contract.
 * Dependency-free on purpose: the web console imports it (console/src/session.ts) and esbuild
 * bundles it, so the console checks the same names the server does — a renamed permission fails
 * the console's typecheck instead of hiding a button at run time.
 */
export const PERMISSIONS = {
  clients: 'client-installation-and-management',
  licenses: 'license-management',
  tenants: 'tenant-management-and-system-configuration',
} as const;
export type Permission = (typeof PERMISSIONS)[keyof typeof PERMISSIONS];

/** The built-in default tenant (its admin is the technician). */
export const DEFAULT_TENANT = 'default';
