/**
 * The Client paging index is kept by the scripts that change the clients set (SPEC H1;
 * docs/client-pages.md): hello-1.lua adds a new registration (enroll only — a reconnect writes
 * nothing to it), purge-uninstalled-1.lua removes a purged Client, and check-invariants
 * compares index and set once the index is built. Real gateway, real agents.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { maintainClientIndex } from '../../src/licensing/client-index.ts';
import { listClientsPage } from '../../src/licensing/client-pages.ts';
import { uninstallClient } from '../../src/licensing/client-admin.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { applyRetention, DEFAULT_RETENTION } from '../../src/licensing/retention.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, QUIET_NODE, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const T = DEFAULT_TENANT;
const DAY = 86_400_000;
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ pool: { linux: 5 }, gateway: { ...QUIET_NODE } });
});
afterAll(() => gw.stop());

const indexed = async (id: string) => (await gw.redis.zscore(gw.keys.clientIndex(T), id)) !== null;

describe('Client paging index', () => {
  it('H1: enrollment indexes the Client; a reconnect does not write the index', async () => {
    const a = newAgent(gw.url, { os: OS.linux });
    await a.connect();
    expect(await indexed(a.clientId)).toBe(true);
    await a.close();
    // Taken out by hand: a reconnect (the hot path) must not put it back.
    await gw.redis.zrem(gw.keys.clientIndex(T), a.clientId);
    await eventually(async () => (await gw.redis.hexists(gw.keys.online(T), a.clientId)) === 0, 'offline');
    await a.connect();
    expect(await indexed(a.clientId)).toBe(false);
    await a.close();
    // The upkeep's count check notices and rebuilds; the invariants then hold.
    expect((await maintainClientIndex(gw.ctx, T, 100)).indexed).toBe(true);
    expect(await indexed(a.clientId)).toBe(true);
    expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
  });

  it('H1 Z5: the purge of an uninstalled Client removes it from the index; pages no longer list it', async () => {
    const a = newAgent(gw.url, { os: OS.linux });
    await a.connect();
    await a.close();
    await eventually(async () => (await gw.redis.hexists(gw.keys.online(T), a.clientId)) === 0, 'offline');
    await uninstallClient(gw.ctx, TECHNICIAN, T, a.clientId);
    expect(await indexed(a.clientId)).toBe(true);
    const r = await applyRetention({ ...gw.ctx, now: () => Date.now() + 2 * DAY }, { ...DEFAULT_RETENTION, uninstalledRetentionMs: DAY });
    expect(r.purged).toBeGreaterThanOrEqual(1);
    expect(await indexed(a.clientId)).toBe(false);
    const page = await listClientsPage(gw.ctx, T, { limit: 1000 });
    expect(page.items.map((c) => c.clientId)).not.toContain(a.clientId);
    expect(page.total).toBe(await gw.redis.scard(gw.keys.clients(T)));
    expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
  });

  it('H1: check-invariants reports an index that disagrees with the clients set', async () => {
    await gw.redis.zadd(gw.keys.clientIndex(T), 0, 'ghost-client');
    const report = await checkInvariants(gw.redis, gw.keys);
    expect(report.violations).toContain(`H1 ${T}/ghost-client: in the Client paging index, not in the clients set`);
    await gw.redis.zrem(gw.keys.clientIndex(T), 'ghost-client');
  });
});
