/**
 * Bounded growth (SPEC Z5; docs/retention.md): what grows with time — each tenant's audit and
 * events streams, uninstalled Clients' records and their claims in the global client→tenant
 * map, the legacy ops hash, finished admin jobs — is trimmed to a configured retention by the
 * ledger upkeep (src/jobs/scheduler.ts), once per interval however many processes run.
 *
 * Every step is bounded per run (F6): streams are trimmed with XTRIM `~` (whole stream nodes,
 * at most LIMIT entries per call), uninstalled Clients are purged in batches by one atomic
 * script per batch in the tenant's slot, and a run stops after a fixed number of calls per
 * tenant, leaving the rest to the next run. Nothing here runs on a hot path, and nothing uses
 * SCAN or KEYS on the keyspace: tenants come from the tenants set, candidates from indexes.
 */
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { OP_RESULT_RETENTION_MS } from '../store/keys.ts';
import { runScript } from '../store/scripts.ts';
import { idsOf, nowOf, runJsonScript, type LedgerContext } from './ledger-context.ts';
import { maintainClientIndex } from './client-index.ts';

const DAY_MS = 86_400_000;

/** Retention settings; 0 means "keep" for every age and count. Config: AUDIT_*, EVENTS_*, UNINSTALLED_*, JOBS_*. */
export interface RetentionSettings {
  /** Audit entries older than this are trimmed (AUDIT_RETENTION_DAYS). */
  auditRetentionMs: number;
  /** At most about this many audit entries per tenant (AUDIT_MAX_ENTRIES). */
  auditMaxEntries: number;
  /** Events older than this are trimmed (EVENTS_RETENTION_DAYS). */
  eventsRetentionMs: number;
  /** At most about this many events per tenant (EVENTS_MAX_ENTRIES; writes also cap at EVENTS_MAXLEN). */
  eventsMaxEntries: number;
  /** Uninstalled Clients not seen for this long are purged (UNINSTALLED_RETENTION_DAYS). */
  uninstalledRetentionMs: number;
  /** Finished and failed admin jobs older than this are removed (JOBS_RETENTION_DAYS; 0: as their producer set). */
  jobsRetentionMs: number;
  /** Clients, entries or jobs per bounded call (RETENTION_BATCH). */
  batch: number;
}

export const DEFAULT_RETENTION: RetentionSettings = {
  auditRetentionMs: 365 * DAY_MS,
  auditMaxEntries: 1_000_000,
  eventsRetentionMs: 30 * DAY_MS,
  eventsMaxEntries: 100_000,
  uninstalledRetentionMs: 90 * DAY_MS,
  jobsRetentionMs: 7 * DAY_MS,
  batch: 500,
};

/** Calls of one kind per tenant per run: a long backlog (the first run after an upgrade) takes several runs. */
const CALLS_PER_RUN = 20;
/** Clients the index backfill examines per purge call (one HMGET each). */
const BACKFILL_SCAN = 200;

export interface RetentionReport {
  auditTrimmed: number;
  eventsTrimmed: number;
  purged: number;
  released: number;
  jobsRemoved: number;
  /** Tenants whose work was cut short by the per-run bound (the next run goes on). */
  unfinished: string[];
}

/** Trims a stream by age (MINID) and by count (MAXLEN), `~` so each call is bounded; returns entries removed. */
async function trimStream(ctx: LedgerContext, key: string, maxAgeMs: number, maxEntries: number, now: number, limit: number): Promise<{ removed: number; done: boolean }> {
  let removed = 0;
  for (let call = 0; call < CALLS_PER_RUN; call++) {
    let n = 0;
    // Stream ids are the Redis clock's ms: age is measured on it (apart from `now` by the skew only).
    if (maxAgeMs > 0) n += Number(await ctx.redis.xtrim(key, 'MINID', '~', `${Math.max(0, now - maxAgeMs)}-0`, 'LIMIT', limit));
    if (maxEntries > 0) n += Number(await ctx.redis.xtrim(key, 'MAXLEN', '~', maxEntries, 'LIMIT', limit));
    removed += n;
    // `~` removes whole stream nodes only, so a call may remove a little less than LIMIT and
    // still leave more: only a call that removes nothing says the stream is within bounds.
    if (n === 0) return { removed, done: true };
  }
  return { removed, done: false };
}

/** Purges one tenant's uninstalled Clients past retention, then releases their global claims. */
async function purgeTenant(ctx: LedgerContext, tenantId: string, s: RetentionSettings, now: number): Promise<{ purged: number; released: number; done: boolean }> {
  let purged = 0;
  let done = false;
  for (let call = 0; call < CALLS_PER_RUN && !done; call++) {
    const r = await runJsonScript<{ purged: unknown; more: boolean; indexed: boolean }>(ctx, 'purgeUninstalled', tenantId, [now, now - s.uninstalledRetentionMs, s.batch, Math.min(s.batch, BACKFILL_SCAN)]);
    purged += idsOf(r.purged).length;
    done = !r.more && r.indexed;
  }
  const released = await releaseClaims(ctx, tenantId, s.batch);
  return { purged, released: released.count, done: done && released.done };
}

/**
 * Releases purged ids' claims in the global client→tenant map (another slot, so a second step).
 * An id that enrolled again in this tenant between the purge and the release keeps (gets back)
 * its claim; ids leave the tenant's pending set only after their claim was handled, so a crash
 * in between just repeats the step.
 */
async function releaseClaims(ctx: LedgerContext, tenantId: string, batch: number): Promise<{ count: number; done: boolean }> {
  const pending = ctx.keys.releasedIds(tenantId);
  let count = 0;
  for (let call = 0; call < CALLS_PER_RUN; call++) {
    const ids = (await ctx.redis.srandmember(pending, batch)) as string[];
    if (ids.length === 0) return { count, done: true };
    count += Number(await runScript(ctx.redis, 'releaseClientIds', [ctx.keys.clientTenant()], [ctx.keys.tenantBase(tenantId), tenantId, ...ids]));
    const p = ctx.redis.pipeline();
    for (const id of ids) p.exists(ctx.keys.client(tenantId, id));
    const back = ((await p.exec()) ?? []).map(([, n], i) => (n === 1 ? ids[i]! : null)).filter((id): id is string => id !== null);
    for (const id of back) await ctx.redis.hsetnx(ctx.keys.clientTenant(), id, tenantId);
    await ctx.redis.srem(pending, ...ids);
  }
  return { count, done: false };
}

/**
 * The ops hash holds saga-step results written before op results moved to one expiring key
 * each (op-results.lua); nothing writes it any more. It is deleted once it has been seen for
 * the op-result retention: by then no retry can still need it.
 */
async function dropLegacyOps(ctx: LedgerContext, tenantId: string, now: number): Promise<void> {
  const ops = ctx.keys.ops(tenantId);
  if ((await ctx.redis.exists(ops)) === 0) return;
  const state = ctx.keys.retention(tenantId);
  await ctx.redis.hsetnx(state, 'opsSeenAt', String(now));
  if (now - Number(await ctx.redis.hget(state, 'opsSeenAt')) >= OP_RESULT_RETENTION_MS) {
    await ctx.redis.unlink(ops);
    await ctx.redis.hdel(state, 'opsSeenAt');
  }
}

/** Removes finished and failed admin jobs past their retention, whatever options their producer set. */
async function cleanJobs(queue: Queue, s: RetentionSettings): Promise<{ removed: number; done: boolean }> {
  let removed = 0;
  for (const state of ['completed', 'failed'] as const) {
    for (let call = 0; call < CALLS_PER_RUN; call++) {
      const ids = await queue.clean(s.jobsRetentionMs, s.batch, state);
      removed += ids.length;
      if (ids.length < s.batch) break;
    }
  }
  return { removed, done: true };
}

/** One retention run over every tenant (and the admin queue when given). Logs and goes on past a failing tenant. */
export async function applyRetention(ctx: LedgerContext, s: RetentionSettings, opts: { adminQueue?: Queue | undefined; logger?: Logger | undefined } = {}): Promise<RetentionReport> {
  const report: RetentionReport = { auditTrimmed: 0, eventsTrimmed: 0, purged: 0, released: 0, jobsRemoved: 0, unfinished: [] };
  const now = nowOf(ctx);
  const tenants = await ctx.redis.smembers(ctx.keys.tenants());
  for (const tenantId of tenants) {
    try {
      const audit = await trimStream(ctx, ctx.keys.audit(tenantId), s.auditRetentionMs, s.auditMaxEntries, now, s.batch * 20);
      const events = await trimStream(ctx, ctx.keys.events(tenantId), s.eventsRetentionMs, s.eventsMaxEntries, now, s.batch * 20);
      report.auditTrimmed += audit.removed;
      report.eventsTrimmed += events.removed;
      let purgeDone = true;
      if (s.uninstalledRetentionMs > 0) {
        const p = await purgeTenant(ctx, tenantId, s, now);
        report.purged += p.purged;
        report.released += p.released;
        purgeDone = p.done;
      }
      await dropLegacyOps(ctx, tenantId, now);
      // The Client paging index (docs/client-pages.md): a count check, or CALLS_PER_RUN bounded steps of its walk.
      const index = await maintainClientIndex(ctx, tenantId, CALLS_PER_RUN, opts.logger);
      if (!audit.done || !events.done || !purgeDone || !index.indexed) report.unfinished.push(tenantId);
    } catch (err) {
      report.unfinished.push(tenantId);
      opts.logger?.error({ err, tenant: tenantId }, 'retention of a tenant failed; the next upkeep tries again');
    }
  }
  if (opts.adminQueue && s.jobsRetentionMs > 0) {
    try {
      report.jobsRemoved = (await cleanJobs(opts.adminQueue, s)).removed;
    } catch (err) {
      opts.logger?.error({ err }, 'removing old admin jobs failed; the next upkeep tries again');
    }
  }
  if (report.auditTrimmed + report.eventsTrimmed + report.purged + report.jobsRemoved > 0) opts.logger?.info({ retention: report }, 'retention trimmed old records');
  return report;
}
