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
