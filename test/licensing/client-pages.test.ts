/**
 * Client pages for 100,000 Clients (SPEC H1; docs/client-pages.md): seeded straight into Redis
 * with pipelines, paged through the index in id order. Page timings are printed, not asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_INDEX_BUILDING_CHECK, seedClients, type SeededClient } from './client-pages-seed.ts';
import { maintainClientIndex } from '../../src/licensing/client-index.ts';
import { listClientsPage, SCAN_BUDGET, type ClientPageQuery } from '../../src/licensing/client-pages.ts';
import type { LedgerContext } from '../../src/licensing/ledger-context.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import type { Keys } from '../../src/store/keys.ts';
import { ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, newKeys, redisTarget } from '../helpers/redis.ts';
import { jobAdminApi } from '../../src/admin/job-admin-api.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';

const N = 100_000;
const T = 'big';
/** Filters are checked on a smaller tenant (still 4 scan budgets): each full walk costs ~N HMGETs. */
const N_SMALL = 20_000;
const S = 'small';
let redis: RedisClient;
let keys: Keys;
let ctx: LedgerContext;
let seed: SeededClient[];
let small: SeededClient[];

beforeAll(async () => {
  redis = await connectRedis();
  keys = newKeys('pages');
  ctx = ledgerContext(redis, keys);
  await ensureTenant(redis, keys, T);
  const started = Date.now();
  // Seeded the way a tenant enrolled before the index existed: the clients set only.
  seed = await seedClients(redis, keys, T, N, { index: false });
  console.log(`seeded ${N} Clients in ${Date.now() - started} ms`);
  await ensureTenant(redis, keys, S);
  small = await seedClients(redis, keys, S, N_SMALL, { index: true });
  await redis.hset(keys.retention(S), 'clientIndexed', '1');
}, 60_000);
afterAll(() => redis.disconnect());

/** Every page of a query; checks order and the per-call scan budget on the way. */
async function walk(q: ClientPageQuery, between?: (page: number) => Promise<void>, tenant = T): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await listClientsPage(ctx, tenant, { ...q, cursor });
    pages++;
    expect(page.items.length).toBeLessThanOrEqual(q.limit ?? 100);
    for (const r of page.items) ids.push(r.clientId);
    if (page.nextCursor === null) return { ids, pages };
    cursor = page.nextCursor;
    if (between) await between(pages);
  }
}

const sorted = (xs: string[]) => [...xs].sort();

describe('client pages over 100,000 Clients', () => {
  it('H1: a tenant without the index is refused with CLIENT_INDEX_BUILDING until the bounded walk has built it', async () => {
    await expect(listClientsPage(ctx, T, { limit: 10 })).rejects.toMatchObject({ code: CLIENT_INDEX_BUILDING_CHECK, retryAfterMs: 1000 });
    const started = Date.now();
    let calls = 0;
    let done = false;
    while (!done) {
      done = (await maintainClientIndex(ctx, T, 1)).indexed;
      calls++;
      expect(calls).toBeLessThan(500);
    }
    console.log(`index backfill of ${N} Clients: ${calls} bounded calls, ${Date.now() - started} ms`);
    expect(await redis.zcard(keys.clientIndex(T))).toBe(N);
  }, 60_000);

  it('H1: filter all pages through every Client exactly once, in id order', async () => {
    const t0 = performance.now();
    const first = await listClientsPage(ctx, T, { limit: 100 });
    const firstMs = performance.now() - t0;
    expect(first.total).toBe(N);
    expect(first.items.map((r) => r.clientId)).toEqual(sorted(seed.map((c) => c.id)).slice(0, 100));
    const { ids, pages } = await walk({ limit: 1000 });
    expect(pages).toBe(N / 1000);
    expect(ids).toEqual(sorted(seed.map((c) => c.id)));
    // A middle page, reached by its cursor.
    const middle = sorted(seed.map((c) => c.id))[N / 2 - 1]!;
    const cursor = Buffer.from(`c:${middle}`).toString('base64url');
    const t1 = performance.now();
    const mid = await listClientsPage(ctx, T, { limit: 100, cursor });
    const midMs = performance.now() - t1;
    expect(mid.items[0]!.clientId).toBe(sorted(seed.map((c) => c.id))[N / 2]);
    const t2 = performance.now();
    const sparse = await listClientsPage(ctx, T, { limit: 100, search: 'host-77777' });
    const sparseMs = performance.now() - t2;
    // One budget's worth of ids examined, whatever it found: a short page and a cursor.
    const inBudget = sorted(seed.map((c) => c.id)).slice(0, SCAN_BUDGET);
    expect(sparse.items.map((r) => r.clientId)).toEqual(seed.filter((c) => c.hostname === 'host-77777' && inBudget.includes(c.id)).map((c) => c.id));
    expect(sparse.nextCursor).not.toBeNull();
    console.log(`page timings: first page (100) ${firstMs.toFixed(1)} ms, middle page (100) ${midMs.toFixed(1)} ms, sparse search page (budget ${SCAN_BUDGET}) ${sparseMs.toFixed(1)} ms`);
  }, 60_000);

  const cases: [string, ClientPageQuery, (c: SeededClient) => boolean][] = [
    ['online', { filter: 'online' }, (c) => c.online],
    ['offline', { filter: 'offline' }, (c) => !c.online],
    ['unlicensed', { filter: 'unlicensed' }, (c) => c.status === 'active' && c.type === ''],
    ['type linux', { type: 'linux' }, (c) => c.type === 'linux'],
    ['search HOST-1234 (case-insensitive, hostname or id)', { search: 'HOST-1234' }, (c) => c.hostname.includes('host-1234') || c.id.includes('host-1234')],
    ['online workstations', { filter: 'online', type: 'workstation' }, (c) => c.online && c.type === 'workstation'],
  ];
  for (const [name, q, truth] of cases) {
    it(`H1: ${name} matches the ground truth computed from the seed`, async () => {
      const { ids } = await walk({ ...q, limit: 1000 }, undefined, S);
      expect(ids).toEqual(sorted(small.filter(truth).map((c) => c.id)));
      expect(ids.length).toBeGreaterThan(0);
    }, 30_000);
  }

  it('H1: Clients enrolled and purged while paging: every Client present throughout is seen exactly once (tenant of 20,000)', async () => {
    const removed = new Set<string>();
    const added: string[] = [];
    const all = sorted(small.map((c) => c.id));
    const { ids } = await walk({ limit: 1000 }, async (page) => {
      // Each step: enroll 20 new Clients (some before, some after the cursor), purge 20 old ones.
      const fresh = await seedClients(redis, keys, S, 20, { index: true, label: `new${page}-`, start: 0 });
      added.push(...fresh.map((c) => c.id));
      const p = redis.pipeline();
      for (let k = 0; k < 20; k++) {
        const id = all[(page * 7919 + k * 104_729) % all.length]!;
        if (removed.has(id)) continue;
        removed.add(id);
        p.srem(keys.clients(S), id).zrem(keys.clientIndex(S), id).del(keys.client(S, id));
      }
      await p.exec();
    }, S);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    const seen = new Set(ids);
    const missed = all.filter((id) => !removed.has(id) && !seen.has(id));
    expect(missed).toEqual([]);
    expect(removed.size).toBeGreaterThan(200);
    expect(added.length).toBeGreaterThan(200);
    // Clients enrolled during the walk: those after the cursor were seen, none twice (checked above).
    expect(added.some((id) => seen.has(id))).toBe(true);
  }, 60_000);

  it('H1: a cursor that is not one the API gave out is INVALID_REQUEST; an unknown tenant is UNKNOWN_TENANT', async () => {
    await expect(listClientsPage(ctx, T, { cursor: 'bm9wZQ' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(listClientsPage(ctx, 'nobody', {})).rejects.toMatchObject({ code: 'UNKNOWN_TENANT' });
    await expect(listClientsPage(ctx, T, { limit: 1001 })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it("H1 T6: AdminApi.clientsPage reads any tenant for the technician, and refuses another tenant's admin", async () => {
    const tech = jobAdminApi(ctx, TECHNICIAN, redisTarget());
    const other = jobAdminApi(ctx, { ...TECHNICIAN, userId: 'acme-admin', tenantId: 'acme' }, redisTarget());
    try {
      const page = await tech.clientsPage(S, { limit: 5, filter: 'online' });
      expect(page.items).toHaveLength(5);
      expect(page.items.every((r) => r.online)).toBe(true);
      await expect(other.clientsPage(S, {})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    } finally {
      await tech.close();
      await other.close();
    }
  });

  it('H1: the upkeep rebuilds an index whose size differs from the clients set (a Client enrolled by an older gateway)', async () => {
    const [legacy] = await seedClients(redis, keys, T, 1, { index: false, label: 'legacy-' });
    const r = await maintainClientIndex(ctx, T, 1000);
    expect(r).toMatchObject({ indexed: true, restarted: true });
    expect(await redis.zscore(keys.clientIndex(T), legacy!.id)).toBe('0');
    expect(await redis.zcard(keys.clientIndex(T))).toBe(await redis.scard(keys.clients(T)));
  }, 30_000);
});
