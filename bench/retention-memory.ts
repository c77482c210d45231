/**
 * retention-memory (SPEC Z5, F6; docs/retention.md): what the growing keys cost in Redis memory
 * per entry, how much retention gives back, and how long one bounded purge call takes.
 *
 *   npx tsx bench/retention-memory.ts [--audit 1000000] [--clients 20000] [--batch 500]
 *
 * On a private in-memory redis-server (no AOF): the audit and events streams filled with
 * entries shaped as the Lua scripts write them (includes/context.lua), measured with MEMORY
 * USAGE … SAMPLES 0 at several sizes, then trimmed by applyRetention; uninstalled Clients laid
 * out as hello-1.lua and uninstall-1.lua leave them (hash, a three-command log, memberships,
 * index), then purged by the real purge-uninstalled script, timing each call. Prints JSON.
 */
import { parseArgs } from 'node:util';
import { ensureTenant } from '../src/licensing/tenants.ts';
import { applyRetention, DEFAULT_RETENTION } from '../src/licensing/retention.ts';
import { startEmbeddedRedis } from '../src/store/embedded-redis.ts';
import { DEFAULT_TENANT, Keys } from '../src/store/keys.ts';
import { createRedis, waitReady } from '../src/store/redis-connection.ts';
import { runScript } from '../src/store/scripts.ts';

const { values } = parseArgs({ options: { audit: { type: 'string', default: '1000000' }, clients: { type: 'string', default: '20000' }, batch: { type: 'string', default: '500' } } });
const AUDIT_N = Number(values.audit);
const CLIENTS_N = Number(values.clients);
const BATCH = Number(values.batch);
const T = DEFAULT_TENANT;

const embedded = await startEmbeddedRedis({ persist: false });
const redis = createRedis(embedded.url, { connectionName: 'licensegate:bench' });
try {
  await waitReady(redis);
  const keys = new Keys('rmem', '{rmem}');
  await ensureTenant(redis, keys, T);
  const ctx = { redis, keys, vendorKeys: [] };
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
  const bytes = async (key: string) => Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  const id = (i: number) => `c-${i.toString(16).padStart(10, '0')}`;

  // --- streams -------------------------------------------------------------------------------
  const streams: Record<string, { entries: number; bytes: number; perEntry: number }[]> = { audit: [], events: [] };
  const now = Date.now();
  for (const [name, key] of [['audit', keys.audit(T)], ['events', keys.events(T)]] as const) {
    let written = 0;
    for (const size of [10_000, 100_000, AUDIT_N].filter((n, i, a) => n <= AUDIT_N && a.indexOf(n) === i)) {
      while (written < size) {
        const p = redis.pipeline();
        for (let k = 0; k < 5000 && written < size; k++, written++) {
          const holder = id(written % 50_000);
          if (name === 'audit') {
            p.xadd(key, '*', 'ts', String(now), 'holder', holder, 'holderKind', 'client', 'type', 'workstation', 'action', 'assigned', 'before', '', 'after', 'workstation', 'reason', 'first-connect', 'actor', 'system', 'cause', 'hello');
          } else {
            p.xadd(key, '*', 'type', 'license.assigned', 'ts', String(now), 'data', JSON.stringify({ holder, type: 'workstation', reason: 'first-connect', actor: 'system', cause: 'hello' }));
          }
        }
        await p.exec();
      }
      const b = await bytes(key);
      streams[name]!.push({ entries: size, bytes: b, perEntry: Math.round(b / size) });
    }
  }
  const beforeTrim = await usedMemory();
  const trim = await applyRetention(ctx, { ...DEFAULT_RETENTION, auditMaxEntries: 100_000, eventsMaxEntries: 10_000, uninstalledRetentionMs: 0, jobsRetentionMs: 0, batch: 5000 });
  const afterTrim = await usedMemory();

  // --- uninstalled Clients -------------------------------------------------------------------
  const hex = (n: number) => 'ab'.repeat(n / 2);
  const before = await usedMemory();
  for (let i = 0; i < CLIENTS_N; i += 1000) {
    const p = redis.pipeline();
    for (let k = i; k < Math.min(CLIENTS_N, i + 1000); k++) {
      const c = `u-${k.toString(16).padStart(10, '0')}`;
      p.hset(keys.client(T, c), {
        status: 'uninstalled', credHash: '', registeredAt: now - 90 * 86_400_000, seq: 3, acked: 2, type: '', reason: 'UNINSTALLED', waitType: '',
        hostname: `host-${k}.corp.example.com`, osFamily: 'windows', osProduct: 'workstation', multiSession: '0', cloudProvider: '', osVersion: '10.0.19045',
        agentVersion: '7.4.1', nonPersistent: '0', wantType: 'workstation', lastSeen: now - 60 * 86_400_000, confirmed: '1', connEpoch: 12, holderEpoch: 12,
        runId: hex(40), revokedCredHash: hex(64), uninstallSeq: 3, uninstalledAt: now - 60 * 86_400_000,
      });
      p.xadd(keys.commands(T, c), '0-1', 'k', 'start', 'a', 'workstation');
      p.xadd(keys.commands(T, c), '0-2', 'k', 'stop', 'a', 'UNINSTALLED');
      p.xadd(keys.commands(T, c), '0-3', 'k', 'uninstall', 'a', '');
      p.sadd(keys.clients(T), c);
      p.zadd(keys.uninstalled(T), now - 60 * 86_400_000, c);
      p.hset(keys.clientTenant(), c, T);
    }
    await p.exec();
  }
  const withClients = await usedMemory();
  const callMs: number[] = [];
  await redis.call('SLOWLOG', 'RESET');
  for (;;) {
    const t0 = process.hrtime.bigint();
    const r = JSON.parse(String(await runScript(redis, 'purgeUninstalled', [keys.tenant(T)], [keys.tenantBase(T), now, now - 30 * 86_400_000, BATCH, BATCH]))) as { purged: unknown; more: boolean; indexed: boolean };
    callMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (!r.more && r.indexed) break;
  }
  const released = await applyRetention(ctx, { ...DEFAULT_RETENTION, uninstalledRetentionMs: 30 * 86_400_000, jobsRetentionMs: 0, batch: BATCH });
  const afterPurge = await usedMemory();
  const slowlog = (await redis.call('SLOWLOG', 'GET', '100')) as unknown[];
  callMs.sort((a, b) => a - b);
  console.log(JSON.stringify({
    streams,
    trim: { report: trim, usedMemoryBefore: beforeTrim, usedMemoryAfter: afterTrim, freed: beforeTrim - afterTrim },
    uninstalled: {
      clients: CLIENTS_N,
      bytesPerClient: Math.round((withClients - before) / CLIENTS_N),
      bytesLeftPerClient: Math.round((afterPurge - before) / CLIENTS_N),
      purgeCalls: callMs.length,
      purgeCallMs: { p50: callMs[Math.floor(callMs.length / 2)], max: callMs[callMs.length - 1] },
      batch: BATCH,
      claimsLeft: await redis.hlen(keys.clientTenant()),
      released: released.released,
    },
    /** Commands over 10 ms (slowlog-log-slower-than) during the purge and release. */
    slowPurgeCommands: slowlog.length,
    slowPurgeMaxMs: Math.max(0, ...slowlog.map((e) => Number((e as unknown[])[2]) / 1000)),
    slowPurgeCommandNames: [...new Set(slowlog.map((e) => String(((e as unknown[])[3] as unknown[])[0])))],
  }, null, 2));
} finally {
  redis.disconnect();
  await embedded.stop();
}
