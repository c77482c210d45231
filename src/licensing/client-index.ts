/**
 * The Client paging index (SPEC H1, docs/client-pages.md): a per-tenant sorted set holding the
 * same ids as the tenant's clients set, all scored 0, so that a page is one ZRANGE BYLEX from a
 * cursor (the last id seen) — id order, each Client exactly once, whatever enrolls or is purged
 * between pages. hello-1.lua indexes each new registration (one ZADD, enrollment only) and
 * purge-uninstalled-1.lua removes each purged Client; client-index-1.lua builds the index for
 * tenants registered before it existed, in bounded steps.
 *
 * The upkeep (src/licensing/retention.ts) checks every run that index and set have the same
 * count (O(1)); a mismatch — e.g. a gateway of an older version enrolled Clients during a
 * rolling upgrade — starts the walk again. check-invariants compares them member by member.
 */
import type { Logger } from 'pino';
import { LicensegateError } from '../errors.ts';
import { runJsonScript, type LedgerContext } from './ledger-context.ts';

/** Ids examined per client-index-1.lua call: a few ms of Redis time at most. */
export const INDEX_STEP = 1_000;

export interface IndexProgress {
  indexed: boolean;
  added: number;
  removed: number;
  /** Set when this call found index and set of different sizes and started the walk again. */
  restarted: boolean;
}

/** Runs at most `calls` bounded steps of the walk; restarts it first when the counts disagree. */
export async function maintainClientIndex(ctx: LedgerContext, tenantId: string, calls: number, logger?: Logger): Promise<IndexProgress> {
  const p = ctx.redis.pipeline();
  p.hget(ctx.keys.retention(tenantId), 'clientIndexed');
  p.scard(ctx.keys.clients(tenantId));
  p.zcard(ctx.keys.clientIndex(tenantId));
  const [[, flag], [, inSet], [, inIndex]] = (await p.exec()) as [unknown, unknown][] as [[unknown, string | null], [unknown, number], [unknown, number]];
  let restart = false;
  if (flag === '1') {
    if (inSet === inIndex) return { indexed: true, added: 0, removed: 0, restarted: false };
    restart = true;
    logger?.warn({ tenant: tenantId, clients: inSet, indexed: inIndex }, 'the Client paging index and the clients set differ in size; rebuilding the index');
  }
  const progress: IndexProgress = { indexed: false, added: 0, removed: 0, restarted: restart };
  for (let call = 0; call < calls && !progress.indexed; call++) {
    const r = await runJsonScript<{ indexed: boolean; added: number; removed: number }>(ctx, 'clientIndex', tenantId, [INDEX_STEP, restart && call === 0 ? '1' : '0']);
    progress.indexed = r.indexed;
    progress.added += r.added;
    progress.removed += r.removed;
  }
  return progress;
}

/** Calls a page read may spend helping an unfinished walk before it answers "retry later". */
const READER_HELP_CALLS = 20;

/**
 * Makes sure a tenant's index is complete before a page is read from it. Normally one HGET; for
 * a tenant whose walk has not finished, up to READER_HELP_CALLS bounded steps (20,000 ids),
 * then CLIENT_INDEX_BUILDING (503, retry) rather than a page that would miss Clients.
 */
export async function requireClientIndex(ctx: LedgerContext, tenantId: string): Promise<void> {
  if ((await ctx.redis.hget(ctx.keys.retention(tenantId), 'clientIndexed')) === '1') return;
  const r = await maintainClientIndex(ctx, tenantId, READER_HELP_CALLS);
  if (!r.indexed) throw new LicensegateError('CLIENT_INDEX_BUILDING', `tenant ${tenantId}`, { retryAfterMs: 1_000 });
}
