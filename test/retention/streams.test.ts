/**
 * Retention of what grows with every change (SPEC Z5; docs/retention.md): each tenant's audit
 * and events streams by age and by count, the legacy ops hash, finished admin jobs — applied by
 * the ledger upkeep job, bounded per run.
 */
import { Queue, Worker } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_QUEUE } from '../../src/jobs/contract.ts';
import { LedgerScheduler, startSchedulerWorker } from '../../src/jobs/scheduler.ts';
import { applyRetention, DEFAULT_RETENTION, type RetentionSettings } from '../../src/licensing/retention.ts';
import { createTenant } from '../../src/licensing/tenants.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { DEFAULT_TENANT, OP_RESULT_RETENTION_MS, type Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { eventually } from '../helpers/gateway.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, newKeys } from '../helpers/redis.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';

const DAY = 86_400_000;
/** Nothing trimmed unless a test asks: every knob off. */
const OFF: RetentionSettings = { auditRetentionMs: 0, auditMaxEntries: 0, eventsRetentionMs: 0, eventsMaxEntries: 0, uninstalledRetentionMs: 0, jobsRetentionMs: DAY, batch: 100 };
/** A stream node holds up to 100 entries (stream-node-max-entries): `~` trimming keeps at most one partial node more. */
const NODE = 100;

let redis: RedisClient;
let bull: RedisClient;
const closers: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  redis = await connectRedis();
  bull = await connectRedis({ maxRetriesPerRequest: null });
});
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  bull?.disconnect();
  redis?.disconnect();
});

async function deployment(): Promise<{ keys: Keys; ctx: ReturnType<typeof ledgerContext> }> {
  const keys = newKeys('ret');
  await ensureTenant(redis, keys, DEFAULT_TENANT);
  return { keys, ctx: ledgerContext(redis, keys) };
}

/** Appends `n` audit-like entries with ids at `atMs` (old ones), or at Redis's clock ('*'). */
async function append(key: string, n: number, atMs?: number): Promise<void> {
  const p = redis.pipeline();
  for (let i = 0; i < n; i++) p.xadd(key, atMs === undefined ? '*' : `${atMs}-${i + 1}`, 'ts', String(atMs ?? Date.now()), 'holder', `c-${i}`, 'action', 'assigned', 'type', 'linux', 'reason', 'first-connect', 'actor', 'system', 'cause', 'hello');
  await p.exec();
}

describe('stream retention', () => {
  it('Z5 A5: the audit trail loses entries older than AUDIT_RETENTION, keeps the recent ones', async () => {
    const { keys, ctx } = await deployment();
    const audit = keys.audit(DEFAULT_TENANT);
    await append(audit, 1000, Date.now() - 3 * DAY);
    await append(audit, 10);
    const r = await applyRetention(ctx, { ...OFF, auditRetentionMs: DAY });
    expect(r.auditTrimmed).toBeGreaterThanOrEqual(1000 - NODE);
    const left = (await redis.xrange(audit, '-', '+')) as [string, string[]][];
    expect(left.length).toBeLessThan(10 + NODE);
    expect(left.filter(([id]) => Number(id.split('-')[0]) > Date.now() - DAY)).toHaveLength(10);
  });

  it('Z5: the audit trail and the events stream keep about AUDIT_MAX_ENTRIES / EVENTS_MAX_ENTRIES, newest kept; 0 keeps everything', async () => {
    const { keys, ctx } = await deployment();
    const audit = keys.audit(DEFAULT_TENANT);
    const events = keys.events(DEFAULT_TENANT);
    await append(audit, 3000);
    await append(events, 3000);
    const newest = (await redis.xrevrange(audit, '+', '-', 'COUNT', 1))[0]![0];

    await applyRetention(ctx, OFF);
    expect(await redis.xlen(audit)).toBe(3000);
    expect(await redis.xlen(events)).toBe(3000);

    await applyRetention(ctx, { ...OFF, auditMaxEntries: 1000, eventsMaxEntries: 500 });
    expect(await redis.xlen(audit)).toBeGreaterThanOrEqual(1000);
    expect(await redis.xlen(audit)).toBeLessThan(1000 + NODE);
    expect(await redis.xlen(events)).toBeGreaterThanOrEqual(500);
    expect(await redis.xlen(events)).toBeLessThan(500 + NODE);
    expect((await redis.xrevrange(audit, '+', '-', 'COUNT', 1))[0]![0]).toBe(newest);
  });

  it('Z5 A6: events older than EVENTS_RETENTION go, in every tenant', async () => {
    const { keys, ctx } = await deployment();
    await activatePool(ctx, { linux: 1 }, { multiTenant: true });
    const acme = await createTenant(ctx, TECHNICIAN, 'Acme');
    for (const t of [DEFAULT_TENANT, acme.id]) {
      await append(keys.events(t), 500, Date.now() - 40 * DAY);
      await append(keys.events(t), 5);
    }
    await applyRetention(ctx, { ...OFF, eventsRetentionMs: 30 * DAY });
    for (const t of [DEFAULT_TENANT, acme.id]) expect(await redis.xlen(keys.events(t))).toBeLessThan(5 + NODE);
  });

  it('Z5 F6: a long backlog is trimmed in bounded calls over several runs', async () => {
    const { keys, ctx } = await deployment();
    const audit = keys.audit(DEFAULT_TENANT);
    for (let i = 0; i < 10; i++) await append(audit, 2000, Date.now() - 10 * DAY + i);
    // batch 10 → at most 20 calls × 200 entries per run.
    const first = await applyRetention(ctx, { ...OFF, auditRetentionMs: DAY, batch: 10 });
    expect(first.auditTrimmed).toBeLessThanOrEqual(20 * 200);
    expect(first.unfinished).toEqual([DEFAULT_TENANT]);
    await eventually(async () => (await applyRetention(ctx, { ...OFF, auditRetentionMs: DAY, batch: 10 })).unfinished.length === 0, 'backlog trimmed', 30_000, 0);
    expect(await redis.xlen(audit)).toBeLessThan(NODE);
  });

  it('Z5 A3: the legacy ops hash is dropped one op-result retention after it was first seen', async () => {
    const { keys, ctx } = await deployment();
    const ops = keys.ops(DEFAULT_TENANT);
    await redis.hset(ops, 'takeback:old-op', '{"done":true}');
    const t0 = Date.now();
    await applyRetention({ ...ctx, now: () => t0 }, OFF);
    expect(await redis.exists(ops)).toBe(1);
    await applyRetention({ ...ctx, now: () => t0 + OP_RESULT_RETENTION_MS - 1000 }, OFF);
    expect(await redis.exists(ops)).toBe(1);
    await applyRetention({ ...ctx, now: () => t0 + OP_RESULT_RETENTION_MS }, OFF);
    expect(await redis.exists(ops)).toBe(0);
  });
});

describe('job retention and the upkeep', () => {
  it('Z5 A3: finished admin jobs older than JOBS_RETENTION are removed, even when their producer kept them for ever', async () => {
    const { keys, ctx } = await deployment();
    const queue = new Queue(ADMIN_QUEUE, { connection: bull, prefix: keys.queuePrefix });
    closers.push(() => queue.close());
    const worker = new Worker(ADMIN_QUEUE, async (job) => { if (job.name === 'bad') throw new Error('no'); return 'done'; }, { connection: bull, prefix: keys.queuePrefix });
    closers.push(() => worker.close());
    // A plain BullMQ producer: no removeOnComplete / removeOnFail.
    for (let i = 0; i < 30; i++) await queue.add(i % 3 === 0 ? 'bad' : 'ok', {}, { jobId: `plain-${i}` });
    await eventually(async () => (await queue.getCompletedCount()) + (await queue.getFailedCount()) === 30, 'jobs finished', 20_000);

    await applyRetention(ctx, { ...OFF, jobsRetentionMs: DAY }, { adminQueue: queue });
    expect(await queue.getCompletedCount()).toBe(20);
    await new Promise((r) => setTimeout(r, 50));
    const r = await applyRetention(ctx, { ...OFF, jobsRetentionMs: 10, batch: 10 }, { adminQueue: queue });
    expect(r.jobsRemoved).toBe(30);
    expect(await queue.getCompletedCount()).toBe(0);
    expect(await queue.getFailedCount()).toBe(0);
  });

  it('Z5 F2: the periodic upkeep job applies the retention', async () => {
    const { keys, ctx } = await deployment();
    const audit = keys.audit(DEFAULT_TENANT);
    await append(audit, 500, Date.now() - 3 * DAY);
    await append(audit, 3);
    const scheduler = new LedgerScheduler(bull, keys.queuePrefix);
    closers.push(() => scheduler.close());
    const worker = startSchedulerWorker(bull, keys.queuePrefix, ctx, pino({ level: 'silent' }), { ...DEFAULT_RETENTION, auditRetentionMs: DAY });
    closers.push(() => worker.close());
    await scheduler.startUpkeep(200);
    await eventually(async () => (await redis.xlen(audit)) < 3 + NODE, 'the upkeep trimmed the audit trail', 20_000);
    await scheduler.queue.removeJobScheduler('ledger-upkeep');
  });
});
