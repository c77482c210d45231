/**
 * `licensegate admin audit` of a tenant that does not exist (SPEC A5, T6), as a real process:
 * the catalogue's UNKNOWN_TENANT with exit 1 — in JSON and for people — instead of an empty
 * trail, for a tenant never created and for one deleted. The actor's scope comes first: a
 * tenant admin asking for another tenant's trail gets FORBIDDEN whether it exists or not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { deleteTenant } from '../../src/licensing/tenant-lifecycle.ts';
import { createTenant } from '../../src/licensing/tenants.ts';
import type { Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { CliDeployments, runAdminCli, type CliRun as Run } from '../helpers/admin-cli.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { connectRedis } from '../helpers/redis.ts';

const deployments = new CliDeployments();
const dataDir = mkdtempSync(join(tmpdir(), 'lg-unknown-audit-'));
const admin = (args: string[]): Promise<Run> => runAdminCli(keys, args, { dataDir });

let redis: RedisClient;
let keys: Keys;
beforeAll(async () => {
  redis = await connectRedis();
  keys = await deployments.fresh(redis, 'unkaudit');
  const ctx = ledgerContext(redis, keys);
  await activatePool(ctx, { linux: 2 }, { multiTenant: true });
  await createTenant(ctx, TECHNICIAN, 'Acme', 'acme');
  await createTenant(ctx, TECHNICIAN, 'Gone', 'gone');
  await deleteTenant(ctx, TECHNICIAN, 'gone');
});
afterAll(async () => {
  await deployments.stop();
  redis?.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('licensegate admin audit of an unknown tenant', () => {
  it('A5 T6: audit --tenant of a tenant never created or deleted fails with UNKNOWN_TENANT (exit 1, JSON and human); a tenant admin asking for another tenant gets FORBIDDEN', async () => {
    const outsider = JSON.stringify({ userId: 'eve', tenantId: 'acme', permissions: [] });
    const [ghostJson, goneJson, ghostHuman, forbidden, own] = await Promise.all([
      admin(['audit', '--tenant', 'no-such-tenant', '--json']),
      admin(['audit', '--tenant', 'gone', '--json']),
      admin(['audit', '--tenant', 'no-such-tenant']),
      admin(['audit', '--tenant', 'no-such-tenant', '--actor', outsider, '--json']),
      admin(['audit', '--tenant', 'acme', '--json']),
    ]);
    for (const r of [ghostJson, goneJson]) {
      expect(r.status, r.stdout + r.stderr).toBe(1);
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'UNKNOWN_TENANT', message: expect.stringMatching(/^unknown tenant: (no-such-tenant|gone)$/) });
    }
    expect(ghostHuman.status).toBe(1);
    expect(ghostHuman.stdout).toBe('');
    expect(ghostHuman.stderr).toMatch(/unknown tenant: no-such-tenant/);
    expect(forbidden.status).toBe(1);
    expect(JSON.parse(forbidden.stdout).error.code).toBe('FORBIDDEN');
    // A tenant that exists answers its trail (empty here), exit 0.
    expect([own.status, JSON.parse(own.stdout)]).toEqual([0, []]);
  });
});
