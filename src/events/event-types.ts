/**
 * The admin event types (SPEC A6, H3) and the shape of one event as `/api/v1/events` sends it
 * (`data: <JSON {id, type, ts, data}>`). Dependency-free on purpose: the web console imports it
 * (console/src/live.ts) and esbuild bundles it into the browser script, so the event list the
 * console listens for is the server's own — a new or renamed type cannot drift apart.
 */
export const EVENT_TYPES = [
  'license.assigned',
  'license.unassigned',
  'pool.exhausted',
  'pool.usage',
  'key.activated',
  'key.expiring',
  'key.expired',
  'key.removed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One event: its stream id, type, time (ms) and the JSON the writer gave it. */
export interface AdminEvent {
  id: string;
  type: EventType;
  ts: number;
  data: Record<string, unknown>;
}

/**
 * What a stream may follow: the stored event types, and `presence` — a notice without an id sent
 * when Clients of the tenant connected or disconnected since the last poll (src/events/event-feed.ts;
 * opt-in: only streams whose `types` list it).
 */
export const FOLLOW_TYPES = [...EVENT_TYPES, 'presence'] as const;
export type FollowType = (typeof FOLLOW_TYPES)[number];

/** A presence notice: shaped like an event without an id; `data` holds the tenant, how many of its Clients are online now, and the counter. */
export interface PresenceNotice {
  type: 'presence';
  ts: number;
  data: { tenantId: string; online: number; version: number };
}
