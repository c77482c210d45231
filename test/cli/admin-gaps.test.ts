/**
 * Issue 12's CLI gaps as a new user meets them, through real `licensegate admin` processes:
 * --actor alone acts in the actor's tenant, CLIENT_NOT_FOUND names the tenant searched, error
 * texts name flags as typed and carry no JSON tail, `admin licenses` says what `assigned` counts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayServer } from '../../src/gateway/gateway-server.ts';
import { PERMISSIONS, TECHNICIAN } from '../../src/licensing/permissions.ts';
import { createTenant, ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { pino } from 'pino';
import { newAgent, OS } from '../helpers/agents.ts';
import { TEST_TOKEN } from '../helpers/gateway.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { connectRedis } from '../helpers/redis.ts';
import { CliDeployments, runAdminCli, type CliRun as Run } from '../helpers/admin-cli.ts';

const deployments = new CliDeployments();
const dataDir = mkdtempSync(join(tmpdir(), 'lg-admin-gaps-'));
const admin = (keys: Keys, args: string[], env: Record<string, string> = {}): Promise<Run> => runAdminCli(keys, args, { dataDir, env });

function jsonFailure(r: Run): { code: string; message: string } {
  expect(r.status).toBe(1);
  return JSON.parse(r.stdout).error;
}
function ok(r: Run): any {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

let redis: RedisClient;
let keys: Keys;
let gateway: GatewayServer;
let url: string;
beforeAll(async () => {
  redis = await connectRedis();
  keys = await deployments.fresh(redis, 'gaps');
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  const ctx = ledgerContext(redis, keys);
  await activatePool(ctx, { linux: 3, workstation: 3 });
  await createTenant(ctx, TECHNICIAN, 'Acme', 'acme');
  gateway = new GatewayServer({ redis, keys, logger: pino({ level: 'silent' }), port: 0 });
  url = `ws://127.0.0.1:${(await gateway.start()).port}`;
});
afterAll(async () => {
  await gateway?.stop();
  await deployments.stop();
  redis?.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

const ACME_ADMIN = JSON.stringify({ userId: 'ann', tenantId: 'acme', permissions: [PERMISSIONS.clients, PERMISSIONS.licenses] });

describe('licensegate admin, as a new user meets it', () => {
  it("T6: --actor without --tenant acts in the actor's tenant, not the default one", async () => {
    const [clients, audit] = await Promise.all([
      admin(keys, ['clients', 'list', '--actor', ACME_ADMIN, '--json']),
      admin(keys, ['audit', '--actor', ACME_ADMIN, '--json']),
    ]);
    expect(ok(clients)).toEqual([]);
    expect(ok(audit)).toEqual(expect.any(Array));
  });

  it('C6: CLIENT_NOT_FOUND names the tenant searched', async () => {
    const [inAcme, inDefault] = await Promise.all([
      admin(keys, ['clients', 'assign', 'no-such-client', '--tenant', 'acme', '--json']),
      admin(keys, ['clients', 'unassign', 'no-such-client', '--json']),
    ]);
    const a = jsonFailure(inAcme);
    expect(a.code).toBe('CLIENT_NOT_FOUND');
    expect(a.message).toMatch(/no-such-client.*tenant acme/);
    expect(jsonFailure(inDefault).message).toMatch(/tenant default/);
  });

  it('C6 L2: refusals name flags as typed (--force) and carry no raw JSON tail', async () => {
    const agent = newAgent(url, { os: OS.linux });
    await agent.connect();
    await agent.waitFor(() => agent.monitoring);
    await agent.close();
    const [already, notEnough] = await Promise.all([
      admin(keys, ['clients', 'assign', agent.clientId, '--type', 'workstation', '--json']),
      admin(keys, ['tenants', 'grant', 'acme', '--type', 'linux', '--count', '99', '--json']),
    ]);
    const licensed = jsonFailure(already);
    expect(licensed.code).toBe('CLIENT_ALREADY_LICENSED');
    expect(licensed.message).not.toMatch(/[{}"]/);
    expect(licensed.message).toContain('linux');
    ok(await admin(keys, ['clients', 'unassign', agent.clientId, '--json']));
    const mismatch = await admin(keys, ['clients', 'assign', agent.clientId, '--type', 'workstation']);
    expect(mismatch.status).toBe(1);
    expect(mismatch.stderr).toMatch(/^licensegate admin: LICENSE_TYPE_MISMATCH: .*--force/);
    expect(mismatch.stderr).not.toMatch(/[{}"]/);
    const short = jsonFailure(notEnough);
    expect(short.code).toBe('NOT_ENOUGH_LICENSES');
    expect(short.message).not.toMatch(/[{}"]/);
  });

  it('S3: admin licenses says that ASSIGNED counts the default tenant only', async () => {
    const [human, json] = await Promise.all([admin(keys, ['licenses']), admin(keys, ['licenses', '--json'])]);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/assigned.*default tenant only/i);
    // --json keeps its exact rows (a contract); the doc of the field says the same (docs/cli.md).
    expect(Object.keys(ok(json)[0])).toEqual(['type', 'total', 'granted', 'assigned', 'available']);
  });
});
