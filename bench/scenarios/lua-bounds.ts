/**
 * lua-bounds (SPEC F6): the longest single Lua call while a tenant of 100,000 Clients (20,000
 * with --quick; --agents N overrides) goes through the big changes of ../lib/lua-bounds-cases.ts
 * — 100k waiting when a key of 50k is activated, a key with 50k holders expiring, a forced
 * take-back of 50k — measured by Redis itself (SLOWLOG, threshold 0) on a private redis-server.
 * Value: the longest script call (ms) over the three cases; goal < 50 ms, and every outcome
 * check and invariant holds. No baseline: the bound is absolute.
 */
import { LUA_BOUND_CASES, runLuaBoundCase, type LuaBoundResult } from '../lib/lua-bounds-cases.ts';
import type { ScenarioDef } from '../lib/scenario.ts';
import { startRedis } from '../lib/setup.ts';

export const GOAL_MAX_SCRIPT_MS = 50;

/** Tenant size: 100k (full), 20k (quick), or --agents rounded up to a multiple of 20. */
function clientsFor(agents: number | undefined, quick: boolean): number {
  if (agents !== undefined) return Math.max(100, Math.ceil(agents / 20) * 20);
  return quick ? 20_000 : 100_000;
}

export const luaBounds: ScenarioDef = {
  name: 'lua-bounds',
  produces: ['lua-bounds'],
  rows: { 'lua-bounds': { unit: 'ms', goal: `< ${GOAL_MAX_SCRIPT_MS} ms per Lua call` } },
  timeoutMs: () => 900_000,
  async run(ctx) {
    const n = clientsFor(ctx.opts.agents, ctx.opts.quick);
    const r = await startRedis(ctx.scope);
    const cases: LuaBoundResult[] = [];
    for (const which of LUA_BOUND_CASES) {
      await r.redis.flushall();
      const res = await runLuaBoundCase(r.redis, which, n);
      const failed = Object.entries(res.checks).filter(([, ok]) => !ok).map(([name]) => name);
      ctx.log(`${which} (${n} clients): ${res.timing.calls} script calls, longest ${res.timing.maxMs} ms, scripts ${res.timing.totalMs} ms, wall ${res.wallMs} ms${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}${res.violations.length ? `; ${res.violations.length} violations` : ''}`);
      cases.push(res);
    }
    await r.redis.flushall();
    const value = Math.max(...cases.map((c) => c.timing.maxMs));
    const correct = cases.every((c) => Object.values(c.checks).every(Boolean) && c.violations.length === 0);
    return {
      'lua-bounds': {
        value,
        unit: 'ms',
        baseline: null,
        ratio: null,
        goal: `< ${GOAL_MAX_SCRIPT_MS} ms per Lua call`,
        met: value < GOAL_MAX_SCRIPT_MS && correct,
        details: {
          clients: n,
          cases: Object.fromEntries(cases.map((c) => [c.case, { ...c.timing, wallMs: c.wallMs, checks: c.checks, violations: c.violations.slice(0, 20) }])),
          note: 'SLOWLOG with slowlog-log-slower-than 0 on a private redis-server: every EVALSHA/EVAL of the operation, as timed by Redis',
        },
      },
    };
  },
};
