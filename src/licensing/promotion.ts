/**
 * Finishing promotions of waiting Clients (SPEC C9) that a script left unfinished (SPEC F6).
 *
 * Every Lua script does a bounded amount of work per call; when licenses are still free and
 * Clients still wait after its budget ran out, promoteWaiting records the type in the tenant's
 * promoting hash. The code that ran the script then calls drainPromotions, which runs the
 * promote script until nothing is pending. A crash between the two leaves the record in
 * Redis: resumePendingPromotions — the periodic pass — finishes it. See docs/bounded-work.md.
 */
import { DEFAULT_TENANT } from '../store/keys.ts';
import { pipelineBySlot } from '../store/slot-routing.ts';
import { idsOf, nowOf, runJsonScript, type LedgerContext } from './ledger-context.ts';
import { SYSTEM_ACTOR } from './permissions.ts';

export interface DrainOptions {
  /** Recorded as the actor of the assignments (default `system`). */
  actorId?: string;
  /** Recorded as their cause (default `promote`). */
  cause?: string;
  /**
   * Upper bound on promote calls (default 10,000: far beyond what 1,000,000 waiting Clients
   * need), so that a drain always ends; what is left stays pending for the periodic pass.
   */
  maxCalls?: number;
}

/** Runs the promote script until the tenant has no pending promotion; returns the promoted ids. */
export async function drainPromotions(ctx: LedgerContext, tenantId: string, options: DrainOptions = {}): Promise<string[]> {
  const promoted: string[] = [];
  const maxCalls = options.maxCalls ?? 10_000;
  if ((await ctx.redis.exists(ctx.keys.promoting(tenantId))) === 0) return promoted;
  for (let i = 0; i < maxCalls; i++) {
    const r = await runJsonScript<{ promoted: unknown; pending: boolean }>(ctx, 'promote', tenantId, [nowOf(ctx), options.actorId ?? SYSTEM_ACTOR, options.cause ?? 'promote']);
    promoted.push(...idsOf(r.promoted));
    if (!r.pending) break;
  }
  return promoted;
}

/**
 * The periodic pass (and start-up): drains every tenant with a pending promotion, such as one
 * left by a process that crashed between a script and its drain, or by a gateway's disconnect
 * that freed a license with a long queue of offline Clients ahead. Returns how many tenants it
 * drained and how many Clients it licensed. Reads only the tenant set and one key per tenant.
 */
export async function resumePendingPromotions(ctx: LedgerContext): Promise<{ tenants: number; promoted: number }> {
  const tenants = await ctx.redis.smembers(ctx.keys.tenants());
  if (!tenants.includes(DEFAULT_TENANT)) tenants.push(DEFAULT_TENANT);
  // One key per tenant, so one slot each: one pipeline on a single Redis, one per slot on a Cluster.
  const replies = await pipelineBySlot(ctx.redis, tenants, (t) => ctx.keys.promoting(t), (p, t) => p.exists(ctx.keys.promoting(t)));
  const pending = replies.map(([, n]) => n === 1);
  let drained = 0;
  let promoted = 0;
  for (const [i, tenantId] of tenants.entries()) {
    if (!pending[i]) continue;
    drained++;
    promoted += (await drainPromotions(ctx, tenantId, { cause: 'promote:resume' })).length;
  }
  return { tenants: drained, promoted };
}
