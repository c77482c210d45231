/**
 * `licensegate admin …` failures as real processes: refused actors, tampered keys, bad command
 * lines (exit 2) and no reachable Redis (exit 1).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { clearedTargetEnv } from '../../src/store/redis-target.ts';
import { activatePool, ledgerContext, mintKey } from '../helpers/ledger.ts';
import { connectRedis, newKeys } from '../helpers/redis.ts';
import { CliDeployments, runAdminCli, type CliRun as Run } from '../helpers/admin-cli.ts';
import { snapshot } from '../helpers/snapshot.ts';

const deployments = new CliDeployments();
const dataDir = mkdtempSync(join(tmpdir(), 'lg-admin-err-'));

/** Runs `licensegate admin …` as a real process; env entries override the test Redis settings. */
const admin = (keys: Keys, args: string[], env: Record<string, string> = {}): Promise<Run> => runAdminCli(keys, args, { dataDir, env });

/** Exactly {"error":{"code","message"}} on stdout, nothing on stderr, exit 1; returns the code. */
function jsonFailure(r: Run): string {
  expect(r.status).toBe(1);
  expect(r.stderr).toBe('');
  const body = JSON.parse(r.stdout);
  expect(body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
  return body.error.code;
}

/** `licensegate admin: CODE: message` on stderr, nothing on stdout, exit 1; returns the code. */
function humanFailure(r: Run): string {
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  const m = /^licensegate admin: ([A-Z_]+): [^\n]+\n$/.exec(r.stderr);
  expect(m, r.stderr).not.toBeNull();
  return m![1]!;
}

/** Runs at most `limit` at once (each is a process). */
async function inBatches<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit) out.push(...(await Promise.all(items.slice(i, i + limit).map(fn))));
  return out;
}

let redis: RedisClient;
beforeAll(async () => {
  redis = await connectRedis();
});
afterAll(async () => {
  await deployments.stop();
  redis?.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

const freshKeys = (): Promise<Keys> => deployments.fresh(redis, 'adme');

const WEAK_ACTOR = JSON.stringify({ userId: 'bob', tenantId: 'acme', permissions: ['license-management'] });

describe('licensegate admin failures', () => {
  it('A2 T2 T6: a weak --actor or LICENSEGATE_ACTOR is FORBIDDEN (exit 1) and changes nothing', async () => {
    const keys = await freshKeys();
    await activatePool(ledgerContext(redis, keys), { workstation: 5, 'pam-seat': 1 });
    const before = await snapshot(redis, keys.prefix);
    const otherTenantAdmin = JSON.stringify({ userId: 'eve', tenantId: 'acme', permissions: ['client-installation-and-management', 'license-management'] });

    const [create, activate, pam] = await Promise.all([
      admin(keys, ['tenants', 'create', 'Globex', '--actor', WEAK_ACTOR, '--json']),
      admin(keys, ['serial', 'activate', mintKey({ linux: 1 })], { LICENSEGATE_ACTOR: WEAK_ACTOR }),
      admin(keys, ['pam', 'assign', 'someone', '--tenant', 'default', '--actor', otherTenantAdmin, '--json']),
    ]);
    expect(jsonFailure(create)).toBe('FORBIDDEN');
    expect(humanFailure(activate)).toBe('FORBIDDEN');
    expect(jsonFailure(pam)).toBe('FORBIDDEN');
    expect(await snapshot(redis, keys.prefix)).toEqual(before);
  });

  it('S1: a tampered serial key is SERIAL_KEY_INVALID with exit 1, as JSON and for people', async () => {
    const keys = await freshKeys();
    const [prefix, payload, signature] = mintKey({ workstation: 1000 }).split('.');
    const i = Math.floor(payload!.length / 2);
    const tampered = [prefix, payload!.slice(0, i) + (payload![i] === 'A' ? 'B' : 'A') + payload!.slice(i + 1), signature].join('.');
    const before = await snapshot(redis, keys.prefix);

    const [asJson, forPeople] = await Promise.all([
      admin(keys, ['serial', 'activate', tampered, '--json']),
      admin(keys, ['serial', 'activate', tampered]),
    ]);
    expect(jsonFailure(asJson)).toBe('SERIAL_KEY_INVALID');
    expect(humanFailure(forPeople)).toBe('SERIAL_KEY_INVALID');
    expect(await snapshot(redis, keys.prefix)).toEqual(before);
  });

  it('bad command lines exit 2 with one line on stderr, before connecting to Redis', async () => {
    const keys = newKeys('adme');
    // No Redis at all: a command that tried to connect would exit 1, not 2.
    const noRedis = { ...clearedTargetEnv(), DATA_DIR: dataDir };
    const cases: string[][] = [
      [],
      ['frobnicate'],
      ['serial', 'activate'],
      ['tenants', 'create', 'Acme', 'Corp'],
      ['tenants', 'grant', 'acme', '--type', 'desktop', '--count', '1'],
      ['tenants', 'grant', 'acme', '--type', 'linux', '--count', '0'],
      ['tenants', 'take-back', 'acme', '--type', 'linux', '--count', '1.5', '--force'],
      ['licenses', '--bogus'],
      ['clients', 'list', '--online', '--unlicensed'],
      ['licenses', '--json', '--actor', '{not json'],
    ];
    const runs = await inBatches(cases, 5, (args) => admin(keys, args, noRedis));
    runs.forEach((r, n) => {
      expect({ args: cases[n], status: r.status, stdout: r.stdout }).toEqual({ args: cases[n], status: 2, stdout: '' });
      expect(r.stderr).toMatch(/^licensegate admin: [^\n]+\n$/);
    });

    const help = await admin(keys, ['--help'], noRedis);
    expect(help.status).toBe(0);
    for (const name of ['serial activate', 'serial list', 'serial remove', 'licenses', 'tenants create', 'tenants list', 'tenants grant', 'tenants take-back', 'tenants granted', 'clients list', 'users create', 'pam assign', 'pam unassign']) {
      expect(help.stdout).toContain(`  ${name}`);
    }
  });

  it('no Redis reachable (REDIS_URL unset, no running embedded Redis in DATA_DIR): REDIS_UNAVAILABLE, exit 1, saying how to start one', async () => {
    const keys = newKeys('adme');
    const empty = mkdtempSync(join(tmpdir(), 'lg-admin-empty-'));
    const stale = mkdtempSync(join(tmpdir(), 'lg-admin-stale-'));
    writeFileSync(join(stale, 'redis.url'), 'redis://127.0.0.1:1\n'); // recorded by a server that is gone
    try {
      const [asJson, forPeople, staleRecord] = await Promise.all([
        admin(keys, ['licenses', '--json'], { ...clearedTargetEnv(), DATA_DIR: empty }),
        admin(keys, ['tenants', 'list'], { ...clearedTargetEnv(), DATA_DIR: empty }),
        admin(keys, ['serial', 'list', '--json'], { ...clearedTargetEnv(), DATA_DIR: stale }),
      ]);
      expect(jsonFailure(asJson)).toBe('REDIS_UNAVAILABLE');
      expect(humanFailure(forPeople)).toBe('REDIS_UNAVAILABLE');
      expect(forPeople.stderr).toContain('npm start');
      expect(forPeople.stderr).toContain('REDIS_URL');
      expect(jsonFailure(staleRecord)).toBe('REDIS_UNAVAILABLE');
    } finally {
      rmSync(empty, { recursive: true, force: true });
      rmSync(stale, { recursive: true, force: true });
    }
  });
});
