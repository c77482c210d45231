/**
 * `licensegate admin …` as real processes against the test redis-server: serial keys, tenants,
 * Clients and PAM seats, asserting the --json contract and exit codes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULER_QUEUE } from '../../src/jobs/scheduler.ts';
import { ALL_LICENSE_TYPES } from '../../src/licensing/license-types.ts';
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, startTestGateway } from '../helpers/gateway.ts';
import { activatePool, ledgerContext, mintKey } from '../helpers/ledger.ts';
import { connectRedis } from '../helpers/redis.ts';
import { CliDeployments, runAdminCli, type CliRun as Run } from '../helpers/admin-cli.ts';

const deployments = new CliDeployments();
const dataDir = mkdtempSync(join(tmpdir(), 'lg-admin-'));

/** Runs `licensegate admin …` as a real process with this file's Redis and keys. */
const admin = (keys: Keys, args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<Run> => runAdminCli(keys, args, { dataDir, ...opts });

/** The --json result of a successful run. */
function ok(r: Run): any {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

/** The error code of a failed --json run: exactly {"error":{"code","message"}}, exit 1. */
function failure(r: Run): string {
  expect(r.status).toBe(1);
  const body = JSON.parse(r.stdout);
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(typeof body.error.message).toBe('string');
  return body.error.code;
}

const zeroRow = (type: string) => ({ type, total: 0, granted: 0, assigned: 0, available: 0 });

let redis: RedisClient;
beforeAll(async () => {
  redis = await connectRedis();
});
afterAll(async () => {
  await deployments.stop();
  redis?.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

const freshKeys = (): Promise<Keys> => deployments.fresh(redis, 'adm');

describe('licensegate admin', () => {
  it('S1 S2 S3 S4: serial activate (argument and stdin), serial list, licenses --json and serial remove', async () => {
    const keys = await freshKeys();
    const key = mintKey({ workstation: 10, linux: 4, 'pam-seat': 2 }, { keyId: 'K-ADMIN-1' });

    expect(ok(await admin(keys, ['serial', 'activate', key, '--json']))).toEqual({ keyId: 'K-ADMIN-1', status: 'ACTIVATED', expiredTrials: [] });

    const [again, list, licenses, table] = await Promise.all([
      admin(keys, ['serial', 'activate', '-', '--json'], { input: `${key}\n` }),
      admin(keys, ['serial', 'list', '--json']),
      admin(keys, ['licenses', '--json']),
      admin(keys, ['licenses']),
    ]);
    expect(ok(again)).toEqual({ keyId: 'K-ADMIN-1', status: 'ALREADY_ACTIVE', expiredTrials: [] });
    const records = ok(list);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'active', payload: { keyId: 'K-ADMIN-1', kind: 'subscription', multiTenant: true, licenses: { workstation: 10, linux: 4, 'pam-seat': 2 } } });
    const expected = ALL_LICENSE_TYPES.map(zeroRow);
    Object.assign(expected[0]!, { total: 10, available: 10 });
    Object.assign(expected[4]!, { total: 4, available: 4 });
    Object.assign(expected[5]!, { total: 2, available: 2 });
    expect(ok(licenses)).toEqual(expected);
    expect(table.status).toBe(0);
    // The table, then a blank line and the note on what ASSIGNED counts (issue 12).
    const lines = table.stdout.trimEnd().split('\n\n')[0]!.split('\n');
    expect(lines[0]).toMatch(/^TYPE\s+TOTAL\s+GRANTED\s+ASSIGNED\s+AVAILABLE$/);
    expect(lines).toContainEqual(expect.stringMatching(/^workstation\s+10\s+0\s+0\s+10$/));
    expect(lines).toHaveLength(1 + ALL_LICENSE_TYPES.length);

    // S4: the CLI's activation schedules the key's expiry on the scheduler queue.
    const queue = new Queue(SCHEDULER_QUEUE, { connection: redis, prefix: keys.queuePrefix });
    try {
      expect((await queue.getJob('expire-K-ADMIN-1'))?.name).toBe('serial.expire');
    } finally {
      await queue.close();
    }

    expect(ok(await admin(keys, ['serial', 'remove', 'K-ADMIN-1', '--json']))).toEqual({ keyId: 'K-ADMIN-1', lost: 0 });
    const [after, listAfter] = await Promise.all([admin(keys, ['licenses', '--json']), admin(keys, ['serial', 'list', '--json'])]);
    expect(ok(after)).toEqual(ALL_LICENSE_TYPES.map(zeroRow));
    expect(ok(listAfter)[0].status).toBe('removed');
  });

  it('T1 T2 T4 T5 C7: tenants create, list, grant, take-back (LICENSES_IN_USE unless --force) and granted --json', async () => {
    const keys = await freshKeys();
    await activatePool(ledgerContext(redis, keys), { workstation: 5, linux: 2 });

    const acme = ok(await admin(keys, ['tenants', 'create', 'Acme Corp', '--json']));
    expect(acme).toEqual({ id: 'acme-corp', name: 'Acme Corp', enrollmentToken: expect.stringMatching(/^\S{16,}$/), createdAt: expect.any(Number) });

    const [list, grant] = await Promise.all([
      admin(keys, ['tenants', 'list', '--json']),
      admin(keys, ['tenants', 'grant', 'acme-corp', '--type', 'workstation', '--count', '3', '--json']),
    ]);
    // Z2: the list never shows a token (only hashes are stored).
    expect(ok(list)).toEqual([
      { id: 'default', name: 'default', createdAt: expect.any(Number) },
      { id: 'acme-corp', name: 'Acme Corp', createdAt: expect.any(Number) },
    ]);
    expect(ok(grant)).toEqual({ tenantId: 'acme-corp', type: 'workstation', granted: 3, promoted: [] });

    // A Client of acme-corp holds one of the granted licenses.
    const gw = await startTestGateway({ keys });
    const agent = newAgent(gw.url, { tenantId: 'acme-corp', enrollmentToken: acme.enrollmentToken, os: OS.windows });
    try {
      expect((await agent.connect()).license.licensed).toBe(true);

      const [licenses, granted, refused] = await Promise.all([
        admin(keys, ['licenses', '--json']),
        admin(keys, ['tenants', 'granted', '--json']),
        admin(keys, ['tenants', 'take-back', 'acme-corp', '--type', 'workstation', '--count', '3', '--json']),
      ]);
      expect(ok(licenses)[0]).toEqual({ type: 'workstation', total: 5, granted: 3, assigned: 0, available: 2 });
      const rows = ok(granted);
      expect(rows).toContainEqual({ tenant: 'acme-corp', type: 'workstation', granted: 3, assigned: 1, available: 2 });
      expect(rows).toContainEqual({ tenant: 'default', type: 'workstation', granted: 2, assigned: 0, available: 2 });
      expect(rows).toHaveLength(2 * ALL_LICENSE_TYPES.length);
      expect(failure(refused)).toBe('LICENSES_IN_USE');

      const forced = ok(await admin(keys, ['tenants', 'take-back', 'acme-corp', '--type', 'workstation', '--count', '3', '--force', '--json']));
      expect(forced).toEqual({ tenantId: 'acme-corp', type: 'workstation', takenBack: 3, unassigned: [agent.clientId] });
      await agent.waitFor(() => agent.commands.some((c) => c.kind === 'stop'));

      const after = ok(await admin(keys, ['tenants', 'granted', '--json']));
      expect(after).toContainEqual({ tenant: 'acme-corp', type: 'workstation', granted: 0, assigned: 0, available: 0 });
      expect(after).toContainEqual({ tenant: 'default', type: 'workstation', granted: 5, assigned: 0, available: 5 });
    } finally {
      await agent.close();
      await gw.stop();
    }
  });

  it('C3 C4: clients list --json with --online, --offline, --unlicensed, an unknown tenant, and as a table', async () => {
    const keys = await freshKeys();
    const gw = await startTestGateway({ keys, pool: { workstation: 1 } });
    const licensed = newAgent(gw.url, { os: OS.windows });
    const unlicensed = newAgent(gw.url, { os: OS.windows });
    try {
      expect((await licensed.connect()).license.licensed).toBe(true);
      expect((await unlicensed.connect()).license).toMatchObject({ licensed: false, reason: 'NO_LICENSE_AVAILABLE' });
      await unlicensed.close();
      await eventually(async () => (await redis.hexists(keys.online(DEFAULT_TENANT), unlicensed.clientId)) === 0, 'unlicensed agent offline');

      const [all, online, offline, waiting, unknown, table] = await Promise.all([
        admin(keys, ['clients', 'list', '--json']),
        admin(keys, ['clients', 'list', '--online', '--json']),
        admin(keys, ['clients', 'list', '--tenant', 'default', '--offline', '--json']),
        admin(keys, ['clients', 'list', '--unlicensed', '--json']),
        admin(keys, ['clients', 'list', '--tenant', 'nope', '--json']),
        admin(keys, ['clients', 'list']),
      ]);
      const ids = (r: Run) => ok(r).map((c: { clientId: string }) => c.clientId);
      expect(ids(all).sort()).toEqual([licensed.clientId, unlicensed.clientId].sort());
      expect(ids(online)).toEqual([licensed.clientId]);
      expect(ids(offline)).toEqual([unlicensed.clientId]);
      const rows = ok(waiting);
      expect(rows).toEqual([expect.objectContaining({ tenant: 'default', clientId: unlicensed.clientId, online: false, license: null, reason: 'NO_LICENSE_AVAILABLE', status: 'active' })]);
      expect(ok(online)[0]).toMatchObject({ online: true, license: 'workstation', status: 'active' });
      expect(failure(unknown)).toBe('UNKNOWN_TENANT');

      expect(table.status).toBe(0);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^CLIENT ID\s+HOSTNAME\s+OS\s+STATE\s+LICENSE\s+REASON\s+LAST SEEN$/);
      expect(lines.find((l) => l.startsWith(licensed.clientId))).toMatch(/\sonline\s+workstation\s/);
      expect(lines.find((l) => l.startsWith(unlicensed.clientId))).toMatch(/\soffline\s+-\s+NO_LICENSE_AVAILABLE\s/);
    } finally {
      await licensed.close();
      await gw.stop();
    }
  });

  it('C6 C7 C8 C10 C11 C12 A5: clients assign, unassign, uninstall, policy set and audit through admin jobs', async () => {
    const keys = await freshKeys();
    const gw = await startTestGateway({ keys, pool: { linux: 2 } });
    const agent = newAgent(gw.url, { os: OS.linux });
    try {
      await agent.connect();
      await agent.waitFor(() => agent.monitoring);
      const unassigned = ok(await admin(keys, ['clients', 'unassign', agent.clientId, '--json']));
      expect(unassigned).toMatchObject({ clientId: agent.clientId, license: null, reason: 'UNASSIGNED_BY_ADMIN', online: true });
      await agent.waitFor(() => !agent.monitoring);
      const [mismatch, osMatched, again] = [
        await admin(keys, ['clients', 'assign', agent.clientId, '--type', 'workstation', '--json']),
        await admin(keys, ['clients', 'assign', agent.clientId, '--json']),
        await admin(keys, ['clients', 'assign', agent.clientId, '--json']),
      ];
      expect(failure(mismatch)).toBe('LICENSE_TYPE_MISMATCH');
      expect(ok(osMatched)).toMatchObject({ license: 'linux', reason: '' });
      expect(failure(again)).toBe('CLIENT_ALREADY_LICENSED');
      await agent.waitFor(() => agent.monitoring);

      const policy = ok(await admin(keys, ['policy', 'set', 'default', '--reclaim-after-days', '30', '--free-non-persistent', 'on', '--json']));
      expect(policy).toEqual({ tenantId: 'default', reclaimAfterDays: 30, freeNonPersistentOnDisconnect: true });

      const trail = ok(await admin(keys, ['audit', '--client', agent.clientId, '--since', '1h', '--json']));
      // Newest first (Z5: a page from the end).
      expect(trail.map((e: { action: string; actor: string }) => [e.action, e.actor])).toEqual([
        ['assigned', 'technician'],
        ['unassigned', 'technician'],
        ['assigned', 'system'],
      ]);
      expect(trail[1].cause).toMatch(/^job:/);

      expect(ok(await admin(keys, ['clients', 'uninstall', agent.clientId, '--json']))).toMatchObject({ status: 'uninstalled', license: null });
      await agent.waitFor(() => agent.uninstalled);

      const bad = await Promise.all([
        admin(keys, ['clients', 'assign']),
        admin(keys, ['clients', 'assign', 'x', '--type', 'pam-seat']),
        admin(keys, ['policy', 'set', 'default']),
        admin(keys, ['policy', 'set', 'default', '--free-non-persistent', 'maybe']),
        admin(keys, ['audit', '--since', 'yesterday-ish']),
      ]);
      for (const r of bad) {
        expect(r.status).toBe(2);
        expect(r.stdout).toBe('');
      }
      // T6: another tenant's admin cannot read this tenant's Clients or audit trail.
      const other = JSON.stringify({ userId: 'eve', tenantId: 'acme', permissions: ['client-installation-and-management', 'license-management'] });
      // (--tenant named: without it a command acts in the actor's own tenant, issue 12.)
      expect(failure(await admin(keys, ['audit', '--tenant', 'default', '--json', '--actor', other]))).toBe('FORBIDDEN');
    } finally {
      await agent.close();
      await gw.stop();
    }
  });

  it('P1 P2 L4: users create, pam assign and pam unassign --json; no seat beyond the pool', async () => {
    const keys = await freshKeys();
    await activatePool(ledgerContext(redis, keys), { 'pam-seat': 1 });

    const [aliceRun, bobRun] = await Promise.all([
      admin(keys, ['users', 'create', 'default', 'Alice Admin', '--json']),
      admin(keys, ['users', 'create', 'default', 'Bob', '--json']),
    ]);
    const alice = ok(aliceRun);
    const bob = ok(bobRun);
    expect(alice).toEqual({ tenant: 'default', id: expect.stringMatching(/^alice-admin-/), name: 'Alice Admin', seat: false });

    expect(ok(await admin(keys, ['pam', 'assign', alice.id, '--json']))).toEqual({ userId: alice.id, seat: true, changed: true });
    const [repeat, full, unknownUser] = await Promise.all([
      admin(keys, ['pam', 'assign', alice.id, '--tenant', 'default', '--json']),
      admin(keys, ['pam', 'assign', bob.id, '--json']),
      admin(keys, ['users', 'create', 'no-such-tenant', 'Carol', '--json']),
    ]);
    expect(ok(repeat)).toEqual({ userId: alice.id, seat: true, changed: false });
    expect(failure(full)).toBe('NO_LICENSE_AVAILABLE');
    expect(failure(unknownUser)).toBe('UNKNOWN_TENANT');

    expect(ok(await admin(keys, ['pam', 'unassign', alice.id, '--json']))).toEqual({ userId: alice.id, seat: false, changed: true });
    expect(ok(await admin(keys, ['pam', 'assign', bob.id, '--json']))).toEqual({ userId: bob.id, seat: true, changed: true });
  });
});
