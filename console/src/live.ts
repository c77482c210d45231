/**
 * Live events (SPEC H3; docs/live-events.md) over `EventSource('/api/v1/events?…')`: the session
 * cookie authenticates it. The browser reconnects by itself and sends Last-Event-ID, so nothing is
 * missed or repeated; when the browser gives up (an error answer closes an EventSource for good)
 * this module opens a new one after a pause, resuming with `lastEventId`.
 */
import { api } from './api.ts';
import { FOLLOW_TYPES, type AdminEvent, type FollowType, type PresenceNotice } from '../../src/events/event-types.ts';

/** One event as `/api/v1/events` sends it: the server's own shape and type list (src/events/event-types.ts, dependency-free, bundled). */
export type LiveEvent = AdminEvent | PresenceNotice;

export type LiveState = 'connecting' | 'open' | 'closed';

/** Every type a stream may follow, `presence` notices included (the server's own list). */
export const LIVE_EVENT_TYPES: readonly FollowType[] = FOLLOW_TYPES;

const REOPEN_MS = 5_000;

/**
 * Follows a tenant's events of the given types (empty: every type the account may see);
 * returns the function that stops it. `onState` reports the connection for a "live" badge;
 * `onGap` tells that events were trimmed while away (reload the page's data).
 */
export function subscribe(
  tenantId: string,
  types: readonly FollowType[],
  onEvent: (e: LiveEvent) => void,
  o: { onState?: (s: LiveState) => void; onGap?: () => void } = {},
): () => void {
  let lastEventId: string | undefined;
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const handle = (m: MessageEvent<string>) => {
    if (m.lastEventId) lastEventId = m.lastEventId;
    try {
      onEvent(JSON.parse(m.data) as LiveEvent);
    } catch {
      /* a malformed event is skipped */
    }
  };
  const open = () => {
    if (stopped) return;
    const q = new URLSearchParams({ tenantId });
    if (types.length) q.set('types', types.join(','));
    if (lastEventId) q.set('lastEventId', lastEventId);
    o.onState?.('connecting');
    const es = new EventSource(`/api/v1/events?${q.toString()}`, { withCredentials: true });
    source = es;
    es.onopen = () => o.onState?.('open');
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        o.onState?.('closed');
        es.close();
        if (!stopped) timer = setTimeout(open, REOPEN_MS);
      } else {
        o.onState?.('connecting');
      }
    };
    for (const t of types.length ? types : LIVE_EVENT_TYPES) es.addEventListener(t, handle as EventListener);
    // The server ends a stream whose session or token stopped being valid (or whose account lost
    // this tenant) with `event: end`: no reconnect. Asking for the session then sends a signed-out
    // user back to the sign-in page (any 401 does, api.ts).
    es.addEventListener('end', () => {
      stopped = true;
      es.close();
      source = null;
      o.onState?.('closed');
      void api.get('/auth/session').catch(() => undefined);
    });
    es.addEventListener('gap', (m) => {
      if ((m as MessageEvent).lastEventId) lastEventId = (m as MessageEvent).lastEventId;
      o.onGap?.();
    });
  };
  open();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    source?.close();
    source = null;
  };
}
