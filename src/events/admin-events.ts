/**
 * Events for admin services (SPEC A6): one Redis stream per tenant (`<prefix>:{t:<tenant>}:events`)
 * that any number of consumers read with XREAD / XREADGROUP. Fields: `type`, `ts` (ms), `data`
 * (JSON). License and pool events are written by the Lua scripts that make the change, in the
 * same atomic step; key events go to the default tenant's stream. Events are notifications;
 * the audit trail is the record.
 */
import type { RedisClient } from '../store/redis-connection.ts';
import type { Keys } from '../store/keys.ts';
import type { AdminEvent, EventType } from './event-types.ts';

// The type list and the event shape live in a dependency-free module the web console imports too.
export { EVENT_TYPES, type AdminEvent, type EventType } from './event-types.ts';

/** Stream length kept (approximately): old events are trimmed, the audit trail is not. */
export const EVENTS_MAXLEN = 100_000;

export async function emitEvent(redis: RedisClient, keys: Keys, tenantId: string, type: EventType, data: Record<string, unknown>, now = Date.now()): Promise<void> {
  await redis.xadd(keys.events(tenantId), 'MAXLEN', '~', EVENTS_MAXLEN, '*', 'type', type, 'ts', String(now), 'data', JSON.stringify(data));
}

/** Reads events after `afterId` (exclusive; '0' for all), oldest first. */
export async function readEvents(redis: RedisClient, keys: Keys, tenantId: string, afterId = '0', count = 1000): Promise<AdminEvent[]> {
  const entries = (await redis.xrange(keys.events(tenantId), afterId === '0' ? '-' : `(${afterId}`, '+', 'COUNT', count)) as [string, string[]][];
  return entries.map(([id, f]) => {
    const m: Record<string, string> = {};
    for (let i = 0; i + 1 < f.length; i += 2) m[f[i]!] = f[i + 1]!;
    return { id, type: m.type as EventType, ts: Number(m.ts), data: JSON.parse(m.data ?? '{}') as Record<string, unknown> };
  });
}
