/**
 * The ledger's resumer (SPEC F2): finishes every saga a crash interrupted — grants and
 * take-backs from their pending-saga records (sagas.ts), key expiry and removal from the key's
 * 'expiring'/'removing' status (expireDueKeys), promotions of waiting Clients stopped between
 * their bounded batches (promotion.ts) — and ends keys whose expiry passed. Run at
 * start-up (src/serve.ts) and periodically by the scheduler queue (src/jobs/scheduler.ts), so
 * it runs once per interval however many processes run. Every step is idempotent by op id, so
 * racing the saga's own job is harmless.
 */
import type { Logger } from 'pino';
import { LicensegateError } from '../errors.ts';
import { OP_RESULT_RETENTION_MS } from '../store/keys.ts';
import { nowOf, type LedgerContext } from './ledger-context.ts';
import { resumePendingPromotions } from './promotion.ts';
import { pendingSagas, sagaField, type SagaRecord } from './sagas.ts';
import { expireDueKeys } from './serial-key-ledger.ts';
import { deliverGrant, runTakeBack } from './tenants.ts';

/**
 * A take-back is recorded just before its first step. Younger than this and without a result
 * of that step, it is most likely still in its job's hands: the resumer leaves it for the next
 * round rather than race a refusal that the job is about to report.
 */
export const TAKE_BACK_GRACE_MS = 30_000;

export interface ResumeReport {
  /** Sagas finished (`<kind>:<opId>`). */
  finished: string[];
  /** Sagas whose first step was refused when resumed: they ended, changing nothing. */
  refused: string[];
  /** Sagas left for later (young take-backs, failures); each failure is logged. */
  left: string[];
  /** Keys ended (expired, removed) by expireDueKeys. */
  keys: string[];
  /** Waiting Clients given a license by promotions a crash left unfinished (F6). */
  promoted: number;
}

async function takeBackStarted(ctx: LedgerContext, saga: SagaRecord): Promise<boolean> {
  const op = `takeback:${saga.opId}`;
  const [stored, legacy] = await Promise.all([ctx.redis.exists(ctx.keys.opResult(saga.tenant, op)), ctx.redis.hexists(ctx.keys.ops(saga.tenant), op)]);
  return stored === 1 || legacy === 1;
}

/** Finishes one pending saga; returns what became of it. */
async function resumeSaga(ctx: LedgerContext, saga: SagaRecord, now: number): Promise<'finished' | 'refused' | 'left'> {
  if (now - saga.startedAt > OP_RESULT_RETENTION_MS) {
    // Its steps' stored results may be gone: running a step again could apply it twice.
    throw new Error(`pending for longer than the op-result retention (${OP_RESULT_RETENTION_MS} ms); finish it by hand (docs/sagas.md)`);
  }
  if (saga.kind === 'grant') {
    // Written with step one, so always there; without it step two would deliver nothing.
    if (!Array.isArray(saga.parts)) throw new Error('grant record without the parts its first step reserved; finish it by hand (docs/sagas.md)');
    try {
      await deliverGrant(ctx, saga);
      return 'finished';
    } catch (err) {
      // The tenant was deleted between the steps: the licenses went back to the default tenant.
      if (err instanceof LicensegateError && err.code === 'UNKNOWN_TENANT') return 'refused';
      throw err;
    }
  }
  if (now - saga.startedAt < TAKE_BACK_GRACE_MS && !(await takeBackStarted(ctx, saga))) return 'left';
  try {
    await runTakeBack(ctx, saga);
    return 'finished';
  } catch (err) {
    if (err instanceof LicensegateError && err.code !== 'INTERNAL_ERROR') return 'refused';
    throw err;
  }
}

/** Finishes every pending saga and ends due keys. Never throws for one saga: it logs and goes on. */
export async function resumeLedger(ctx: LedgerContext, logger?: Logger): Promise<ResumeReport> {
  const report: ResumeReport = { finished: [], refused: [], left: [], keys: [], promoted: 0 };
  const now = nowOf(ctx);
  const { sagas, unreadable } = await pendingSagas(ctx);
  for (const field of unreadable) logger?.error({ saga: field, recovery: 'inspect and delete the field by hand (docs/sagas.md)' }, 'unreadable pending-saga record');
  for (const saga of sagas) {
    const field = sagaField(saga.kind, saga.opId);
    try {
      const outcome = await resumeSaga(ctx, saga, now);
      report[outcome].push(field);
      if (outcome !== 'left') logger?.info({ saga: field, tenant: saga.tenant, type: saga.type, count: saga.count, outcome }, 'resumed an interrupted saga');
    } catch (err) {
      report.left.push(field);
      logger?.error({ err, saga: field }, 'could not resume a saga; the next round tries again');
    }
  }
  report.keys = await expireDueKeys(ctx);
  if (report.keys.length) logger?.info({ keys: report.keys }, 'ended serial keys that were due or half-ended');
  // Promotions of waiting Clients that a crash stopped between bounded batches (F6).
  report.promoted = (await resumePendingPromotions(ctx)).promoted;
  if (report.promoted) logger?.info({ promoted: report.promoted }, 'finished promotions a crash had interrupted');
  return report;
}
