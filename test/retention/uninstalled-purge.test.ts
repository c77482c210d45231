/**
 * Uninstalled Clients do not stay for ever (SPEC Z5, C8, C2): after UNINSTALLED_RETENTION their
 * records (hash, command log, memberships) go, atomically in the tenant's slot, and their claim
 * in the global client→tenant map is released so the id can enroll again. A Client that came
 * back, is connected, or still holds anything is never purged. Runs on every engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent-sim/agent.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { uninstallClient } from '../../src/licensing/client-admin.ts';
import type { LedgerContext } from '../../src/licensing/ledger-context.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { applyRetention, DEFAULT_RETENTION, type RetentionSettings } from '../../src/licensing/retention.ts';
import { runScript } from '../../src/store/scripts.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, QUIET_NODE, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const DAY = 86_400_000;
const RETENTION: RetentionSettings = { ...DEFAULT_RETENTION, uninstalledRetentionMs: DAY, batch: 50 };
const T = DEFAULT_TENANT;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ pool: { linux: 50 }, gateway: { heartbeatIntervalMs: 300, lastSeenFlushMs: 100, ...QUIET_NODE } });
});
afterAll(() => gw.stop());

/** The ledger context with its clock moved by `ms` (the retention reads time from it). */
const later = (ms: number): LedgerContext => ({ ...gw.ctx, now: () => Date.now() + ms });
const isOnline = async (id: string) => (await gw.redis.hexists(gw.keys.online(T), id)) === 1;

/** Everything of a Client the purge must remove, or keep. */
async function traces(id: string) {
  return {
    hash: await gw.redis.exists(gw.keys.client(T, id)),
    log: await gw.redis.exists(gw.keys.commands(T, id)),
    member: await gw.redis.sismember(gw.keys.clients(T), id),
    indexed: (await gw.redis.zscore(gw.keys.uninstalled(T), id)) !== null,
    claim: await gw.redis.hget(gw.keys.clientTenant(), id),
  };
}
const PURGED = { hash: 0, log: 0, member: 0, indexed: false, claim: null };

/** An agent that enrolled (licensed), went offline, and was uninstalled by an admin. */
async function uninstalledOffline(): Promise<string> {
  const a = newAgent(gw.url, { os: OS.linux });
  await a.connect();
  await a.waitFor(() => a.monitoring);
  await a.close();
  await eventually(async () => !(await isOnline(a.clientId)), 'agent recorded offline');
  await uninstallClient(gw.ctx, TECHNICIAN, T, a.clientId);
  return a.clientId;
}

describe('purge of uninstalled Clients', () => {
  it('Z5 C8 C2: purged after the retention (records, memberships, claim), kept before; the id can enroll again', async () => {
    const id = await uninstalledOffline();
    expect(await traces(id)).toEqual({ hash: 1, log: 1, member: 1, indexed: true, claim: T });
    // Before the purge the id cannot enroll again (C8).
    await expect(newAgent(gw.url, { os: OS.linux, clientId: id }).connect()).rejects.toThrow(/CLIENT_UNINSTALLED|AUTH_FAILED/);

    const early = await applyRetention(later(DAY / 2), RETENTION);
    expect(early.purged).toBe(0);
    expect(await traces(id)).toMatchObject({ hash: 1, indexed: true, claim: T });

    const r = await applyRetention(later(DAY + 60_000), RETENTION);
    expect(r.purged).toBeGreaterThanOrEqual(1);
    expect(await traces(id)).toEqual(PURGED);
    expect(await gw.redis.scard(gw.keys.releasedIds(T))).toBe(0);
    const audit = (await gw.redis.xrevrange(gw.keys.audit(T), '+', '-', 'COUNT', 50)) as [string, string[]][];
    expect(audit.some(([, f]) => f.includes('purged') && f.includes(id))).toBe(true);

    // The id enrolls again, as a new Client with a license.
    const again = newAgent(gw.url, { os: OS.linux, clientId: id });
    const welcome = await again.connect();
    expect(welcome.license).toMatchObject({ licensed: true });
    await again.close();
    expect(await traces(id)).toMatchObject({ hash: 1, member: 1, indexed: false, claim: T });
    // A later run leaves the re-enrolled Client alone; the ledger stays consistent throughout.
    await applyRetention(later(10 * DAY), RETENTION);
    expect(await gw.redis.hget(gw.keys.client(T, id), 'status')).toBe('active');
    expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
  });

  it('Z5 F4: a Client that came back after its uninstall keeps its records for a retention after that visit', async () => {
    const a = newAgent(gw.url, { os: OS.linux });
    await a.connect();
    await a.close();
    await eventually(async () => !(await isOnline(a.clientId)), 'agent recorded offline');
    await uninstallClient(gw.ctx, TECHNICIAN, T, a.clientId);
    const id = a.clientId;
    const uninstalledAt = Number(await gw.redis.hget(gw.keys.client(T, id), 'uninstalledAt'));
    await new Promise((r) => setTimeout(r, 50));
    // It connects with its revoked credential, is served the queued Uninstall, acks, is closed (F4).
    const visit = new Agent({ url: gw.url, clientId: id, credential: a.credential!, os: OS.linux, lastAckedSeq: a.lastAckedSeq });
    await visit.connect();
    await visit.waitFor(() => visit.uninstalled, 5000);
    await eventually(async () => !(await isOnline(id)), 'visit recorded offline');
    const lastSeen = Number(await gw.redis.hget(gw.keys.client(T, id), 'lastSeen'));
    expect(lastSeen).toBeGreaterThan(uninstalledAt);

    // Retention passed since the uninstall, not since the visit: kept, and re-indexed at the visit.
    const between = uninstalledAt + Math.floor((lastSeen - uninstalledAt) / 2);
    const kept = await applyRetention({ ...gw.ctx, now: () => between + DAY }, RETENTION);
    expect(kept.purged).toBe(0);
    expect(await traces(id)).toMatchObject({ hash: 1, indexed: true, claim: T });
    expect(Number(await gw.redis.zscore(gw.keys.uninstalled(T), id))).toBe(lastSeen);

    await applyRetention({ ...gw.ctx, now: () => lastSeen + DAY + 1 }, RETENTION);
    expect(await traces(id)).toEqual(PURGED);
  });

  it('Z5 C8: a Client connected now, or still holding a license or a queue place, is never purged', async () => {
    const online = await uninstalledOffline();
    const holding = await uninstalledOffline();
    const waiting = await uninstalledOffline();
    // States an uninstalled Client should never be in, or only briefly (served its Uninstall).
    await gw.redis.hset(gw.keys.online(T), online, 'some-node:conn-1');
    await gw.redis.sadd(gw.keys.holders(T, 'linux'), holding);
    await gw.redis.zadd(gw.keys.waiting(T, 'linux'), Date.now(), waiting);

    const r = await applyRetention(later(DAY + 60_000), RETENTION);
    for (const id of [online, holding, waiting]) expect(await traces(id)).toMatchObject({ hash: 1, log: 1, member: 1, indexed: true, claim: T });
    expect(r.purged).toBe(0);

    await gw.redis.hdel(gw.keys.online(T), online);
    await gw.redis.srem(gw.keys.holders(T, 'linux'), holding);
    await gw.redis.zrem(gw.keys.waiting(T, 'linux'), waiting);
    // Looked at again one retention after it was found holding something.
    await applyRetention(later(2 * DAY + 120_000), RETENTION);
    for (const id of [online, holding, waiting]) expect(await traces(id)).toEqual(PURGED);
  });

  it('Z5 C2: the claim of an id enrolled again between purge and release is kept; another tenant\'s claim is never released', async () => {
    const back = await uninstalledOffline();
    const taken = await uninstalledOffline();
    // The purge step alone (as a crash before the release would leave it).
    const cutoff = Date.now() + 1;
    await runScript(gw.redis, 'purgeUninstalled', [gw.keys.tenant(T)], [gw.keys.tenantBase(T), Date.now(), cutoff, 50, 50]);
    expect(await traces(back)).toMatchObject({ hash: 0, claim: T });
    expect(await gw.redis.sismember(gw.keys.releasedIds(T), back)).toBe(1);
    // `back` enrolls again in its tenant before the release; `taken`'s claim now names another tenant.
    const again = newAgent(gw.url, { os: OS.linux, clientId: back });
    await again.connect();
    await again.close();
    await gw.redis.hset(gw.keys.clientTenant(), taken, 'other-tenant');

    await applyRetention(gw.ctx, RETENTION);
    expect(await gw.redis.scard(gw.keys.releasedIds(T))).toBe(0);
    expect(await gw.redis.hget(gw.keys.clientTenant(), back)).toBe(T);
    expect(await gw.redis.hget(gw.keys.client(T, back), 'status')).toBe('active');
    expect(await gw.redis.hget(gw.keys.clientTenant(), taken)).toBe('other-tenant');
    await gw.redis.hdel(gw.keys.clientTenant(), taken);
  });

  it('Z5: Clients uninstalled before the index existed are found by a bounded walk and purged', async () => {
    const ids = [await uninstalledOffline(), await uninstalledOffline()];
    // As before the upgrade: no index entries, the walk not done.
    await gw.redis.zrem(gw.keys.uninstalled(T), ...ids);
    await gw.redis.hdel(gw.keys.retention(T), 'indexed', 'indexCursor');
    const small = { ...RETENTION, batch: 10 };
    await eventually(async () => {
      await applyRetention(later(DAY + 60_000), small);
      return (await gw.redis.hget(gw.keys.retention(T), 'indexed')) === '1';
    }, 'the backfill walk went round', 20_000);
    await applyRetention(later(DAY + 60_000), small);
    for (const id of ids) expect(await traces(id)).toEqual(PURGED);
  });
});
