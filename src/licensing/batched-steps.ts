/**
 * Saga steps that run as several bounded script calls (SPEC F6): each call does at most one
 * batch and answers `done: false` until the step is complete; these loops call again with the
 * same arguments. The script keeps the progress in Redis, so a crash between calls loses
 * nothing: running the step again (the job's retry, the saga resumer) goes on from there.
 */
import { LicensegateError } from '../errors.ts';
import { idsOf, runJsonScript, type LedgerContext } from './ledger-context.ts';

/** Upper bound on calls of one step, so that a loop always ends (≈ 200 changes per call). */
const MAX_CALLS = 100_000;
/** Ids read back per LRANGE. */
const PAGE = 10_000;

export interface TakeBackOutArgs {
  /** The step's op id (`takeback:<op>`). */
  opId: string;
  type: string;
  count: number;
  force: boolean;
  now: number;
  actorId: string;
  cause: string;
}

/**
 * Step one of a take-back (take-back-out-1.lua), to its end: the allocation parts taken from
 * each key, and the ids unassigned, in the order they lost their license (T4).
 */
export async function takeBackOut(ctx: LedgerContext, tenantId: string, a: TakeBackOutArgs): Promise<{ parts: { key: string; n: number }[]; lost: string[] }> {
  for (let i = 0; i < MAX_CALLS; i++) {
    const r = await runJsonScript<{ done?: boolean; parts?: unknown; lost?: unknown }>(ctx, 'takeBackOut', tenantId, [a.opId, a.type, a.count, a.force ? '1' : '0', a.now, a.actorId, a.cause]);
    if (r.done === false) continue;
    const parts = Array.isArray(r.parts) ? (r.parts as { key: string; n: number }[]) : [];
    // A result recorded before batching carries its ids itself.
    if (r.lost !== undefined) return { parts, lost: idsOf(r.lost) };
    const lost: string[] = [];
    const key = ctx.keys.workLost(tenantId, a.opId);
    for (let start = 0; ; start += PAGE) {
      const page = await ctx.redis.lrange(key, start, start + PAGE - 1);
      lost.push(...page);
      if (page.length < PAGE) break;
    }
    return { parts, lost };
  }
  throw new LicensegateError('INTERNAL_ERROR', `take-back ${a.opId} did not finish in ${MAX_CALLS} calls`);
}

/**
 * One tenant's step of a key's end (withdraw-key-1.lua), to its end. Returns how many
 * licenses and seats it unassigned (over every call, also calls before a crash).
 */
export async function withdrawKey(ctx: LedgerContext, tenantId: string, keyId: string, reason: 'KEY_EXPIRED' | 'KEY_REMOVED', now: number, actorId: string, cause: string): Promise<number> {
  for (let i = 0; i < MAX_CALLS; i++) {
    const r = await runJsonScript<{ done?: boolean; lost: unknown; seats: unknown; lostTotal?: number; seatsTotal?: number }>(ctx, 'withdrawKey', tenantId, [keyId, reason, now, actorId, cause]);
    if (r.done === false) continue;
    return (r.lostTotal ?? idsOf(r.lost).length) + (r.seatsTotal ?? idsOf(r.seats).length);
  }
  throw new LicensegateError('INTERNAL_ERROR', `withdrawing ${keyId} from ${tenantId} did not finish in ${MAX_CALLS} calls`);
}
