/**
 * Issue 12's new `licensegate admin` commands as real processes against the test Redis, with a
 * worker: users list, pam list, policy show, tenants show / rename / delete, and the name rule
 * of tenants create / users create (--id for a second of one name).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { createTenant, grantLicenses } from '../../src/licensing/tenants.ts';
import { ALL_LICENSE_TYPES } from '../../src/licensing/license-types.ts';
import type { Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { connectRedis } from '../helpers/redis.ts';
import { CliDeployments, runAdminCli, type CliRun as Run } from '../helpers/admin-cli.ts';

const deployments = new CliDeployments();
const dataDir = mkdtempSync(join(tmpdir(), 'lg-admin-reads-'));
const admin = (args: string[]): Promise<Run> => runAdminCli(keys, args, { dataDir });

function ok(r: Run): any {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}
function failure(r: Run): { code: string; message: string } {
  expect(r.status).toBe(1);
  return JSON.parse(r.stdout).error;
}

let redis: RedisClient;
let keys: Keys;
beforeAll(async () => {
  redis = await connectRedis();
  keys = await deployments.fresh(redis, 'reads');
  const ctx = ledgerContext(redis, keys);
  await activatePool(ctx, { 'pam-seat': 3, linux: 2 });
  await createTenant(ctx, TECHNICIAN, 'Acme', 'acme');
  await grantLicenses(ctx, TECHNICIAN, 'acme', 'pam-seat', 2);
  await createTenant(ctx, TECHNICIAN, 'Spare', 'spare');
});
afterAll(async () => {
  await deployments.stop();
  redis?.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('licensegate admin reads and tenant changes (issue 12)', () => {
  it('P1 P2 T1 T5: users list finds a PAM user id again, pam list shows the pool and who holds a seat, tenants show / policy show read a tenant; rename, delete and the name rule', async () => {
    const [dana, renamed, deleted] = await Promise.all([
      admin(['users', 'create', 'acme', 'Dana Scully', '--json']),
      admin(['tenants', 'rename', 'acme', '--name', 'Acme Europe', '--json']),
      admin(['tenants', 'delete', 'spare', '--json']),
    ]);
    const user = ok(dana);
    expect(user.id).toMatch(/^dana-scully-[0-9a-f]{6}$/);
    expect(ok(renamed)).toMatchObject({ id: 'acme', name: 'Acme Europe' });
    expect(ok(deleted)).toEqual({ tenantId: 'spare', deleted: true });

    const [seat, twin, twinById, notEmpty] = await Promise.all([
      admin(['pam', 'assign', user.id, '--tenant', 'acme', '--json']),
      admin(['users', 'create', 'acme', ' dana scully', '--json']),
      admin(['users', 'create', 'acme', 'Dana Scully', '--id', 'dana2', '--json']),
      admin(['tenants', 'delete', 'acme', '--json']),
    ]);
    expect(ok(seat)).toMatchObject({ userId: user.id, seat: true });
    const exists = failure(twin);
    expect(exists.code).toBe('USER_EXISTS');
    // It names the user that has the name: the first one, or the one --id made at the same moment.
    expect([user.id, 'dana2'].some((id) => exists.message.includes(id)), exists.message).toBe(true);
    expect(ok(twinById)).toMatchObject({ id: 'dana2', name: 'Dana Scully' });
    const refusal = failure(notEmpty);
    expect(refusal.code).toBe('TENANT_NOT_EMPTY');
    expect(refusal.message).toMatch(/2 granted licenses/);

    const [users, usersHuman, pam, policy, shown] = await Promise.all([
      admin(['users', 'list', 'acme', '--json']),
      admin(['users', 'list', 'acme']),
      admin(['pam', 'list', 'acme', '--json']),
      admin(['policy', 'show', 'acme', '--json']),
      admin(['tenants', 'show', 'acme', '--json']),
    ]);
    expect(ok(users)).toEqual([
      { tenant: 'acme', id: user.id, name: 'Dana Scully', seat: true },
      { tenant: 'acme', id: 'dana2', name: 'Dana Scully', seat: false },
    ].sort((a, b) => a.id.localeCompare(b.id)));
    expect(usersHuman.status).toBe(0);
    expect(usersHuman.stdout).toMatch(new RegExp(`^${user.id}\\s+Dana Scully\\s+yes$`, 'm'));
    expect(ok(pam)).toEqual({ tenant: 'acme', granted: 2, assigned: 1, available: 1, seats: [{ userId: user.id, name: 'Dana Scully' }] });
    expect(ok(policy)).toEqual({ tenantId: 'acme', reclaimAfterDays: 0, freeNonPersistentOnDisconnect: false });
    const detail = ok(shown);
    expect(detail).toMatchObject({
      id: 'acme',
      name: 'Acme Europe',
      clients: 0,
      uninstalledClients: 0,
      pamUsers: 2,
      policy: { reclaimAfterDays: 0, freeNonPersistentOnDisconnect: false },
      limits: { enrollRate: null, enrollBurst: null, maxClients: null, requireProof: false },
    });
    expect(detail.pools.map((p: { type: string }) => p.type)).toEqual(ALL_LICENSE_TYPES);
    expect(detail.pools.find((p: { type: string }) => p.type === 'pam-seat')).toEqual({ type: 'pam-seat', granted: 2, assigned: 1, available: 1, waiting: 0 });
  });

  it('T6: reads of a tenant that is gone or unknown say UNKNOWN_TENANT, and another tenant\'s admin may not read it', async () => {
    const outsider = JSON.stringify({ userId: 'eve', tenantId: 'globex', permissions: [] });
    const [gone, forbidden, human] = await Promise.all([
      admin(['users', 'list', 'spare', '--json']),
      admin(['policy', 'show', 'acme', '--actor', outsider, '--json']),
      admin(['pam', 'list', 'acme']),
    ]);
    expect(failure(gone).code).toBe('UNKNOWN_TENANT');
    expect(failure(forbidden).code).toBe('FORBIDDEN');
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/^acme\s+2\s+1\s+1$/m);
    expect(human.stdout).toMatch(/^dana-scully-[0-9a-f]{6}\s+Dana Scully$/m);
  });
});
