/**
 * SPEC H1: `licensegate admin --server URL --token TOKEN` drives a real `licensegate serve`
 * through its admin HTTP API and prints what the direct (Redis) mode prints — tables, --json,
 * and the same coded errors. The token can come from LICENSEGATE_TOKEN (kept out of `ps`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../../src/licensing/permissions.ts';
import { runAdminCli } from '../helpers/admin-cli.ts';
import { startApiStack, type ApiStack } from '../helpers/api-stack.ts';
import { mintKey } from '../helpers/ledger.ts';

let stack: ApiStack;
let tech: string;
let dataDir: string;

beforeAll(async () => {
  stack = await startApiStack('remote');
  tech = (await stack.account('default', [PERMISSIONS.clients, PERMISSIONS.licenses, PERMISSIONS.tenants])).token;
  dataDir = mkdtempSync(join(tmpdir(), 'lg-remote-'));
  expect((await stack.call(tech, 'POST', '/serial-keys', { key: mintKey({ workstation: 4, linux: 2 }, { multiTenant: true }) })).status).toBe(200);
  expect((await stack.call(tech, 'POST', '/tenants', { name: 'Remote Co', tenantId: 'remote-co' })).status).toBe(201);
}, 30_000);

afterAll(async () => {
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const direct = (args: string[]) => runAdminCli(stack.keys, args, { dataDir });
// Remote: no Redis settings at all, so nothing but the API can answer.
const remoteEnv = { REDIS_URL: '', REDIS_SENTINELS: '', REDIS_CLUSTER_NODES: '', LICENSEGATE_SERVER: '', LICENSEGATE_TOKEN: '' };
const remote = (args: string[], env: Record<string, string> = {}) => runAdminCli(stack.keys, args, { dataDir, env: { ...remoteEnv, ...env } });

describe('licensegate admin --server (remote mode)', () => {
  it('H1: reads print the same tables and JSON as the direct mode', async () => {
    // Each CLI start costs seconds (tsx): few commands, run side by side.
    for (const args of [['licenses'], ['tenants', 'list', '--json']]) {
      const [d, r] = await Promise.all([direct(args), remote([...args, '--server', stack.base, '--token', tech])]);
      expect(d.status, d.stderr).toBe(0);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout, args.join(' ')).toBe(d.stdout);
    }
  });

  it('H1: changes run through the API as the token\'s account (token from LICENSEGATE_TOKEN)', async () => {
    const r = await remote(['tenants', 'grant', 'remote-co', '--type', 'workstation', '--count', '2', '--json'], { LICENSEGATE_SERVER: stack.base, LICENSEGATE_TOKEN: tech });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ tenantId: 'remote-co', type: 'workstation', granted: 2 });
    const granted = await stack.call(tech, 'GET', '/licenses-granted');
    expect(granted.json).toContainEqual(expect.objectContaining({ tenant: 'remote-co', type: 'workstation', granted: 2 }));
  });

  it('H1: a refused command prints the same coded error as the direct mode', async () => {
    const args = ['clients', 'assign', 'no-such-client'];
    const [d, r] = await Promise.all([direct(args), remote([...args, '--server', stack.base, '--token', tech])]);
    expect(d.status).toBe(1);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^licensegate admin: CLIENT_NOT_FOUND: /);
    expect(r.stderr).toBe(d.stderr);
  });

  it('A5 T6: audit of a tenant that does not exist is UNKNOWN_TENANT in both modes, not an empty trail', async () => {
    const args = ['audit', '--tenant', 'no-such-tenant'];
    const [d, r] = await Promise.all([direct(args), remote([...args, '--server', stack.base, '--token', tech])]);
    expect([d.status, r.status]).toEqual([1, 1]);
    expect(r.stderr).toMatch(/^licensegate admin: UNKNOWN_TENANT: /);
    expect(r.stderr).toBe(d.stderr);
  });

  it('H2: a wrong token is UNAUTHENTICATED; --actor with --server is a usage error; no token is CONFIG_INVALID', async () => {
    const [bad, actor, none] = await Promise.all([
      remote(['licenses', '--server', stack.base, '--token', 'lgt_nobody_secret']),
      remote(['licenses', '--server', stack.base, '--token', tech, '--actor', '{"userId":"x","tenantId":"default","permissions":[]}']),
      remote(['licenses', '--server', stack.base]),
    ]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^licensegate admin: UNAUTHENTICATED: /);
    expect(actor.status).toBe(2);
    expect(actor.stderr).toContain('--actor does not apply with --server');
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/CONFIG_INVALID: .*LICENSEGATE_TOKEN/);
  });
});
