/**
 * Server-sent events on an HTTP response (SPEC H3; docs/live-events.md): the `text/event-stream`
 * framing of one admin event (`id:`, `event:`, `data:`), comments for heartbeats, and the
 * account's scope — key events only for accounts holding Tenant Management (A2), the `types`
 * filter — as an EventSink for the shared reader (src/events/event-feed.ts).
 */
import type { ServerResponse } from 'node:http';
import type { AdminEvent, EventType } from '../../events/admin-events.ts';

export function sseSink(res: ServerResponse, wants: (type: EventType) => boolean, presence: boolean) {
  const alive = () => !res.destroyed && !res.writableEnded;
  return {
    wants,
    wantsPresence: () => presence,
    send(event: AdminEvent): boolean {
      if (!alive()) return false;
      res.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      return true;
    },
    /** An event without an id (gap, notices): it does not move the client's Last-Event-ID. */
    notice(type: string, data: Record<string, unknown>): void {
      if (alive()) res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    comment(text: string): void {
      if (alive()) res.write(`: ${text}\n\n`);
    },
    buffered: () => res.writableLength,
    end(reason: string): void {
      if (!alive()) return;
      // A slow subscriber's buffer is not flushed first: that is what it could not take.
      if (reason.startsWith('slow')) res.destroy();
      else res.end();
    },
  };
}
