/**
 * Stored results of operations whose change is not one script (SPEC A3, F3): the TypeScript
 * side of src/store/lua/includes/op-results.lua, for operations made of steps that are each
 * idempotent by state (serial key removal, uninstall). The first complete run stores its result
 * under the op id; a retry returns it. A crash after the steps but before the store leaves the
 * retry to run the (harmless) steps again and report what it finds then. Same key and
 * retention as the Lua side: `<tenant base>op:<opId>`, OP_RESULT_RETENTION_MS.
 */
import { OP_RESULT_RETENTION_MS } from '../store/keys.ts';
import type { LedgerContext } from './ledger-context.ts';

/** Runs `fn` once per op id (empty: always) and returns its first stored result. */
export async function onceByOp<T>(ctx: LedgerContext, tenantId: string, opId: string, fn: () => Promise<T>): Promise<T> {
  if (!opId) return fn();
  const key = ctx.keys.opResult(tenantId, opId);
  const stored = await ctx.redis.get(key);
  if (stored !== null) return JSON.parse(stored) as T;
  const result = await fn();
  await ctx.redis.set(key, JSON.stringify(result), 'PX', OP_RESULT_RETENTION_MS);
  return result;
}
