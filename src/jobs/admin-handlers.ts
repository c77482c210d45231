/** Which domain operation each admin job runs (SPEC A1, A4: the result is the new state). */
import type { LedgerContext } from '../licensing/ledger-context.ts';
import type { EndpointLicenseType, LicenseTypeName } from '../licensing/license-types.ts';
import { assignClient, setTenantPolicy, unassignClient, uninstallClient } from '../licensing/client-admin.ts';
import { assignPamSeat, createPamUser, unassignPamSeat } from '../licensing/pam-seats.ts';
import { activateSerialKey, removeSerialKey } from '../licensing/serial-key-ledger.ts';
import { createTenant, grantLicenses, takeBackLicenses } from '../licensing/tenants.ts';
import { setTenantLimits } from '../licensing/tenant-limits.ts';
import { rotateEnrollmentToken } from '../licensing/enrollment-tokens.ts';
import { deleteTenant, renameTenant } from '../licensing/tenant-lifecycle.ts';
import type { JobName, ParsedJob } from './contract.ts';

type Handlers = { [N in JobName]: (ctx: LedgerContext, job: ParsedJob<N>, jobId: string) => Promise<unknown> };

/**
 * The job id is the op id of every change a job makes (SPEC A3, F3): each script stores its
 * reply under `job:<id>` (sagas: their steps under `grant:<id>` / `takeback:<id>`), so a job
 * retried after a crash at any point, or repeated after a lost reply, has exactly one effect
 * and returns the first result. See docs/sagas.md.
 */
export const adminHandlers: Handlers = {
  'serial.activate': (ctx, j, id) => activateSerialKey(ctx, j.actor, j.key, `job:${id}`, `job:${id}`),
  'serial.remove': (ctx, j, id) => removeSerialKey(ctx, j.actor, j.keyId, `job:${id}`, `job:${id}`),
  // A job's result stays in Redis as long as BullMQ keeps the job (a week): it never carries a
  // token (SPEC Z2). The caller sends the hash of a token it made (AdminClient, the CLI);
  // without one the tenant gets a token nobody is shown, and `tenant.rotateToken` makes one.
  'tenant.create': async (ctx, j, id) => ({ ...(await createTenant(ctx, j.actor, j.name, j.tenantId, `job:${id}`, j.enrollTokenHash)), enrollmentToken: '' }),
  'tenant.rename': (ctx, j, id) => renameTenant(ctx, j.actor, j.tenantId, j.name, `job:${id}`),
  'tenant.delete': (ctx, j, id) => deleteTenant(ctx, j.actor, j.tenantId, `job:${id}`),
  'tenant.rotateToken': (ctx, j, id) => rotateEnrollmentToken(ctx, j.actor, j.tenantId, j.enrollTokenHash, j.graceSeconds * 1000, `job:${id}`),
  'tenant.grant': (ctx, j, id) => grantLicenses(ctx, j.actor, j.tenantId, j.type as LicenseTypeName, j.count, id),
  'tenant.takeBack': (ctx, j, id) => takeBackLicenses(ctx, j.actor, j.tenantId, j.type as LicenseTypeName, j.count, j.force, id),
  'client.assign': (ctx, j, id) => assignClient(ctx, j.actor, j.tenantId, j.clientId, { type: j.type as EndpointLicenseType | undefined, force: j.force }, `job:${id}`, `job:${id}`),
  'client.unassign': (ctx, j, id) => unassignClient(ctx, j.actor, j.tenantId, j.clientId, `job:${id}`, `job:${id}`),
  'client.uninstall': (ctx, j, id) => uninstallClient(ctx, j.actor, j.tenantId, j.clientId, `job:${id}`, `job:${id}`),
  'user.create': (ctx, j, id) => createPamUser(ctx, j.actor, j.tenantId, j.name, j.userId, `job:${id}`),
  'pam.assign': (ctx, j, id) => assignPamSeat(ctx, j.actor, j.tenantId, j.userId, `job:${id}`, `job:${id}`),
  'pam.unassign': (ctx, j, id) => unassignPamSeat(ctx, j.actor, j.tenantId, j.userId, `job:${id}`, `job:${id}`),
  'policy.set': (ctx, j, id) => setTenantPolicy(ctx, j.actor, j.tenantId, j.policy, `job:${id}`),
  'tenant.limits': (ctx, j, id) => setTenantLimits(ctx, j.actor, j.tenantId, j.limits, `job:${id}`),
};
