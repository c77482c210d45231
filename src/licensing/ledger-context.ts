/** What every ledger operation needs: Redis, the key namer, a clock, and the vendor keys. */
import type { KeyObject } from 'node:crypto';
import type { RedisClient } from '../store/redis-connection.ts';
import { isErrorCode, LicensegateError } from '../errors.ts';
import type { Keys } from '../store/keys.ts';
import { runScript, type ScriptName } from '../store/scripts.ts';

/** Schedules time-driven work (key expiry and its warnings); see src/jobs/scheduler.ts. */
export interface KeyScheduler {
  scheduleKey(keyId: string, expiresAtMs: number): Promise<void>;
}

export interface LedgerContext {
  redis: RedisClient;
  keys: Keys;
  /** Public keys that verify serial keys (VENDOR_PUBLIC_KEYS). */
  vendorKeys: KeyObject[];
  /** Clock in ms; tests pass a fake one. Default Date.now. */
  now?: () => number;
  scheduler?: KeyScheduler;
}

export function nowOf(ctx: LedgerContext): number {
  return ctx.now ? ctx.now() : Date.now();
}

/** Runs a per-tenant script whose reply is JSON, turning `{error}` into a coded error. */
export async function runJsonScript<T>(ctx: LedgerContext, name: ScriptName, tenantId: string, args: (string | number)[]): Promise<T> {
  const raw = (await runScript(ctx.redis, name, [ctx.keys.tenant(tenantId)], [ctx.keys.tenantBase(tenantId), ...args])) as string;
  const reply = JSON.parse(raw) as T & { error?: string };
  if (reply.error) {
    const { error, ...detail } = reply;
    const err = new LicensegateError(isErrorCode(error) ? error : 'INTERNAL_ERROR', describeDetail(detail));
    throw Object.assign(err, { detail });
  }
  return reply;
}

/**
 * A script's refusal details as words for people ("granted 5, assigned 3"), not a JSON tail;
 * programs read the same values from the error's `detail` property and its stable `code`.
 */
export function describeDetail(detail: Record<string, unknown>): string | undefined {
  const words = (k: string) => k.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  const parts = Object.entries(detail).map(([k, v]) => `${words(k)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return parts.length ? parts.join(', ') : undefined;
}

/** Runs a per-tenant script whose reply is {'OK', ...} or {CODE}. */
export async function runStatusScript(ctx: LedgerContext, name: ScriptName, tenantId: string, args: (string | number)[]): Promise<unknown[]> {
  const reply = (await runScript(ctx.redis, name, [ctx.keys.tenant(tenantId)], [ctx.keys.tenantBase(tenantId), ...args])) as unknown[];
  if (reply[0] !== 'OK') {
    const code = String(reply[0]);
    throw new LicensegateError(isErrorCode(code) ? code : 'INTERNAL_ERROR');
  }
  return reply;
}

/** Flattens a JSON `{type: [ids]}` or `[]` reply (cjson encodes empty tables as {}). */
export function idsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (value && typeof value === 'object') return Object.values(value).flatMap((v) => idsOf(v));
  return [];
}
