/**
 * `licensegate admin tenants rotate-token` as people type it (SPEC Z2): a wrong line is exit 2
 * before any connection; the help lists the command; `tenants create` prints the token once
 * with the notice, `tenants list` prints none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clearedTargetEnv } from '../../src/store/redis-target.ts';
import { CliDeployments, runAdminCli } from '../helpers/admin-cli.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, newKeys } from '../helpers/redis.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'lg-rotate-cli-'));
const deployments = new CliDeployments();
afterAll(async () => {
  await deployments.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('tenants rotate-token on the command line', () => {
  it('Z2: a bad --grace or a missing TENANT is a usage error (exit 2) before connecting; --help lists the command', async () => {
    const noRedis = { ...clearedTargetEnv(), DATA_DIR: dataDir };
    const keys = newKeys('rotcli');
    const cases = [['tenants', 'rotate-token'], ['tenants', 'rotate-token', 'acme', '--grace', '5y'], ['tenants', 'rotate-token', 'acme', '--grace', '31d'], ['tenants', 'rotate-token', 'acme', '--grace', '-1h']];
    const runs = await Promise.all(cases.map((args) => runAdminCli(keys, args, { dataDir, env: noRedis })));
    runs.forEach((r, n) => {
      expect({ args: cases[n], status: r.status, stdout: r.stdout }).toEqual({ args: cases[n], status: 2, stdout: '' });
      expect(r.stderr).toMatch(/^licensegate admin: [^\n]+\n$/);
    });
    expect(runs[1]!.stderr).toMatch(/--grace/);
    const help = await runAdminCli(keys, ['--help'], { dataDir, env: noRedis });
    expect(help.stdout).toContain('  tenants rotate-token');
  });

  it('Z2: tenants create prints the token once with the notice; tenants list shows no token; rotate-token --grace 24h says until when the old one enrolls', async () => {
    const redis = await connectRedis();
    try {
      const keys = await deployments.fresh(redis, 'rotcli2');
      await activatePool(ledgerContext(redis, keys), { workstation: 2 }, { multiTenant: true });
      const created = await runAdminCli(keys, ['tenants', 'create', 'Printed Once'], { dataDir });
      expect(created.status).toBe(0);
      const token = /enrollment token: (lgt_\S+)/.exec(created.stdout)?.[1];
      expect(token).toBeDefined();
      expect(created.stdout).toMatch(/shown only once/);
      const list = await runAdminCli(keys, ['tenants', 'list'], { dataDir });
      expect(list.stdout).toContain('printed-once');
      expect(list.stdout).not.toContain(token!);
      expect(list.stdout).not.toMatch(/lgt_/);
      const rotated = await runAdminCli(keys, ['tenants', 'rotate-token', 'printed-once', '--grace', '24h'], { dataDir });
      expect(rotated.status).toBe(0);
      expect(rotated.stdout).toMatch(/^new enrollment token for printed-once: lgt_\S+\nthe previous token enrolls until \d{4}-\d\d-\d\dT/);
      expect(rotated.stdout).not.toContain(token!);
    } finally {
      redis.disconnect();
    }
  });
});
