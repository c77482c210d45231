/**
 * Live events for the admin API (SPEC H3, A6): one reader per watched tenant per process, shared
 * by every server-sent-events stream of that tenant (src/http/routes/event-routes.ts).
 *
 * A reader polls its tenant's event stream with XRANGE from the last id it read, every
 * `pollMs` (250 ms) while the tenant has subscribers, on the process's shared connection. We
 * chose polling over XREAD BLOCK: a blocking read needs a dedicated connection per watched
 * tenant (on a Cluster, a cluster client each, as tenants live in different slots), while an
 * XRANGE that finds nothing costs Redis a few µs. docs/live-events.md has the measurements.
 *
 * Each subscriber keeps the id of the last event it passed (`lastId`): it catches up on its own
 * with XRANGE from its resume point until it has reached the reader's position, then takes what
 * the reader fans out, skipping anything not after its own `lastId`. So a resumed stream misses
 * nothing and repeats nothing, whatever the order of the reader's and its own reads.
 *
 * Presence (H3, H5): connects and disconnects are not events of the stream (one per connect would
 * flood it in a reconnect storm and push license events out of its trim). The scripts that change
 * a tenant's online set bump its presence counter in the same step; the reader reads the counter
 * (and the online count) in the same round trip as its XRANGE, and sends each subscriber that
 * wants it one `presence` notice on the first poll after it subscribed and on every poll in which
 * the counter moved: no id (it does not move Last-Event-ID), coalesced — at most one per poll,
 * however many agents came and went.
 *
 * Bounded: at most `maxStreams` subscribers per process (more are refused, 503). A subscriber
 * whose socket buffer passes `maxBufferBytes` (1 MiB) leaves the shared fan-out and catches up on
 * its own when its socket drains; one that does not drain within `slowMs` (30 s) is dropped (it
 * reconnects with Last-Event-ID and resumes). One heartbeat timer for all; close() ends every
 * stream and stops every reader.
 *
 * Credentials: before a batch read from Redis is delivered, each live subscriber's sink
 * re-checks its credential with a check sent after the read (EventSink.recheck; the routes
 * batch them: one pipeline per tick for every distinct credential, src/accounts/credential-monitor.ts).
 * A subscriber whose credential failed leaves; a failed check delivers nothing and is retried
 * at the next poll. Polls that find nothing check nothing.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { LicensegateError } from '../errors.ts';
import type { Keys } from '../store/keys.ts';
import type { RedisClient } from '../store/redis-connection.ts';
import type { AdminEvent, EventType } from './admin-events.ts';
import type { PresenceNotice } from './event-types.ts';
import { compareStreamIds } from './stream-ids.ts';

export interface EventFeedOptions {
  redis: RedisClient;
  keys: Keys;
  logger: Logger;
  /** SSE_MAX_STREAMS. */
  maxStreams: number;
  pollMs?: number;
  heartbeatMs?: number;
  /** A subscriber with more than this unsent in its socket is dropped. */
  maxBufferBytes?: number;
  /** Entries per XRANGE. */
  batch?: number;
  /** A subscriber over its buffer bound this long is dropped (default 30 s). */
  slowMs?: number;
  /** How often the routes re-check an open stream's credential when no event flows (default 5 s; event-routes.ts). */
  recheckMs?: number;
}

/** Where a subscriber's events go: the SSE writer (./sse-writer in event-routes). */
export interface EventSink {
  /** Writes one event; false when the subscriber is gone or was dropped. */
  send(event: AdminEvent): boolean;
  /** Whether it wants this type (permission scope and `types` filter). */
  wants(type: EventType): boolean;
  /** Bytes written and not yet sent to the peer. */
  buffered(): number;
  /** Ends the stream (stop, slow subscriber). */
  end(reason: string): void;
  comment(text: string): void;
  /** Writes an event without an id (presence): it does not move the subscriber's resume point. */
  notice(type: string, data: Record<string, unknown>): void;
  /** Whether it wants presence notices (the `types` filter). */
  wantsPresence(): boolean;
  /**
   * Whether the stream may still receive events read at `readAt` (performance.now()): its
   * credential is checked after that moment. false: the sink has ended the stream itself (the
   * credential is no longer valid). Rejects when the check could not be made (retried).
   */
  recheck?(readAt: number): Promise<boolean>;
}



interface Subscriber {
  tenantId: string;
  sink: EventSink;
  lastId: string;
  live: boolean;
  closed: boolean;
  /** The presence counter of the last notice it got (null: none yet). */
  presence: string | null;
}

interface TenantFeed {
  tenantId: string;
  /** Every event after this id will be fanned out to live subscribers. */
  head: string;
  subscribers: Set<Subscriber>;
  timer: NodeJS.Timeout | null;
  /** A read failed and was logged; the next failures are not, until a read succeeds. */
  failing: boolean;
}

type Entry = [string, string[]];

function toEvent([id, f]: Entry): AdminEvent | null {
  const m: Record<string, string> = {};
  for (let i = 0; i + 1 < f.length; i += 2) m[f[i]!] = f[i + 1]!;
  try {
    return { id, type: m.type as EventType, ts: Number(m.ts), data: JSON.parse(m.data ?? '{}') as Record<string, unknown> };
  } catch {
    return null; // not ours to crash on: skipped
  }
}

export class EventFeedHub {
  private readonly feeds = new Map<string, TenantFeed>();
  private readonly subscribers = new Set<Subscriber>();
  private reserved = 0;
  private closed = false;
  private readonly heartbeat: NodeJS.Timeout;
  readonly pollMs: number;
  readonly maxBufferBytes: number;
  private readonly batch: number;
  readonly slowMs: number;
  readonly recheckMs: number;

  constructor(private readonly o: EventFeedOptions) {
    this.pollMs = o.pollMs ?? 250;
    this.maxBufferBytes = o.maxBufferBytes ?? 1024 * 1024;
    this.batch = o.batch ?? 500;
    this.slowMs = o.slowMs ?? 30_000;
    this.recheckMs = o.recheckMs ?? 5_000;
    this.heartbeat = setInterval(() => {
      for (const s of this.subscribers) s.sink.comment('ping');
    }, o.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  /** Open streams now (tests, metrics). */
  get open(): number {
    return this.subscribers.size + this.reserved;
  }

  /** Takes a stream slot before anything is written; OVERLOADED (503) at the cap. Release with the returned function unless subscribed. */
  reserve(): () => void {
    if (this.closed) throw new LicensegateError('SHUTTING_DOWN');
    if (this.open >= this.o.maxStreams) throw new LicensegateError('OVERLOADED', `${this.o.maxStreams} event streams are open in this process (SSE_MAX_STREAMS)`, { retryAfterMs: 5_000 });
    this.reserved++;
    let released = false;
    return () => {
      if (!released) this.reserved--;
      released = true;
    };
  }

  /** The id the stream ends at now ('0-0' when empty): where a stream without a resume id starts. */
  async lastId(tenantId: string): Promise<string> {
    const last = (await this.o.redis.xrevrange(this.o.keys.events(tenantId), '+', '-', 'COUNT', 1)) as Entry[];
    return last[0]?.[0] ?? '0-0';
  }

  /**
   * Whether events after `resumeId` were trimmed (docs/retention.md) before the subscriber
   * could read them: the resume id is older than the oldest event kept, and some were trimmed.
   */
  async gapAfter(tenantId: string, resumeId: string): Promise<{ oldest: string | null } | null> {
    let info: unknown[];
    try {
      info = (await this.o.redis.xinfo('STREAM', this.o.keys.events(tenantId))) as unknown[];
    } catch {
      return null; // no stream yet: nothing was ever trimmed
    }
    const field = (name: string) => info[info.indexOf(name) + 1];
    const length = Number(field('length'));
    const added = Number(field('entries-added') ?? length);
    if (added <= length) return null;
    const first = field('first-entry') as Entry | null;
    if (first) return compareStreamIds(resumeId, first[0]) < 0 ? { oldest: first[0] } : null;
    const lastGenerated = String(field('last-generated-id'));
    return compareStreamIds(resumeId, lastGenerated) < 0 ? { oldest: null } : null;
  }

  /** Starts delivering events after `afterId` to `sink`; returns the unsubscribe function. */
  subscribe(tenantId: string, afterId: string, streamEnd: string, sink: EventSink, release: () => void): () => void {
    release();
    const sub: Subscriber = { tenantId, sink, lastId: afterId, live: false, closed: false, presence: null };
    if (this.closed) {
      sink.end('shutting down');
      return () => undefined;
    }
    this.subscribers.add(sub);
    let feed = this.feeds.get(tenantId);
    if (!feed) {
      // The reader starts at the stream's end as the route read it: a resumed subscriber's
      // backlog is its own catch-up's work, not every subscriber's.
      feed = { tenantId, head: streamEnd, subscribers: new Set(), timer: null, failing: false };
      this.feeds.set(tenantId, feed);
      this.schedule(feed, this.pollMs);
    }
    feed.subscribers.add(sub);
    void this.catchUp(feed, sub).catch((err: unknown) => this.drop(sub, 'catch-up failed', err));
    return () => this.remove(sub);
  }

  private remove(sub: Subscriber): void {
    if (sub.closed) return;
    sub.closed = true;
    this.subscribers.delete(sub);
    const feed = this.feeds.get(sub.tenantId);
    if (!feed) return;
    feed.subscribers.delete(sub);
    if (feed.subscribers.size === 0) {
      if (feed.timer) clearTimeout(feed.timer);
      this.feeds.delete(sub.tenantId);
    }
  }

  private drop(sub: Subscriber, reason: string, err?: unknown): void {
    if (sub.closed) return;
    this.o.logger.info({ tenant: sub.tenantId, reason, err }, 'event stream ended by the server');
    this.remove(sub);
    sub.sink.end(reason);
  }

  /** Writes one event if it is after the subscriber's position; false when the subscriber is gone. */
  private pass(sub: Subscriber, entry: Entry): boolean {
    if (compareStreamIds(entry[0], sub.lastId) <= 0) return true;
    sub.lastId = entry[0];
    const event = toEvent(entry);
    if (event && sub.sink.wants(event.type) && !sub.sink.send(event)) {
      this.drop(sub, 'closed');
      return false;
    }
    return true;
  }

  /**
   * The reader's fan-out to a live subscriber. Past its buffer bound it leaves the fan-out and
   * catches up on its own once its socket drains: the reader never waits for it, and its buffer
   * holds at most the bound plus one event.
   */
  private fanOut(feed: TenantFeed, sub: Subscriber, entry: Entry): void {
    if (!this.pass(sub, entry)) return;
    if (sub.sink.buffered() > this.maxBufferBytes) {
      sub.live = false;
      void this.catchUp(feed, sub).catch((err: unknown) => this.drop(sub, 'catch-up failed', err));
    }
  }

  /** Resolves true once the subscriber's buffer is below half its bound; false after slowMs without. */
  private async drained(sub: Subscriber): Promise<boolean> {
    const deadline = Date.now() + this.slowMs;
    while (!sub.closed && sub.sink.buffered() > this.maxBufferBytes / 2) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
    return !sub.closed;
  }

  /** Reads the subscriber's backlog itself (resume, or after it fell behind) until it reached the reader. */
  private async catchUp(feed: TenantFeed, sub: Subscriber): Promise<void> {
    const key = this.o.keys.events(feed.tenantId);
    for (;;) {
      if (!(await this.drained(sub))) {
        if (!sub.closed) this.drop(sub, `slow subscriber: socket buffer over ${this.maxBufferBytes} bytes for ${this.slowMs} ms`);
        return;
      }
      const entries = (await this.o.redis.xrange(key, `(${sub.lastId}`, '+', 'COUNT', this.batch)) as Entry[];
      if (entries.length > 0 && !(await this.stillAllowed(sub, performance.now()))) return;
      for (const e of entries) if (!this.pass(sub, e)) return;
      // Synchronous from here: the reader cannot move between this check and `live`.
      if (entries.length < this.batch && compareStreamIds(sub.lastId, feed.head) >= 0 && sub.sink.buffered() <= this.maxBufferBytes) {
        sub.live = true;
        return;
      }
    }
  }

  /** The sink's credential re-check; a subscriber whose stream the sink ended leaves. */
  private async stillAllowed(sub: Subscriber, readAt: number): Promise<boolean> {
    if (!sub.sink.recheck) return true;
    const ok = await sub.sink.recheck(readAt);
    if (!ok) this.remove(sub);
    return ok && !sub.closed;
  }

  private schedule(feed: TenantFeed, ms: number): void {
    if (this.closed || this.feeds.get(feed.tenantId) !== feed) return;
    feed.timer = setTimeout(() => void this.poll(feed), ms);
  }

  private async poll(feed: TenantFeed): Promise<void> {
    feed.timer = null;
    let full = false;
    try {
      const { keys } = this.o;
      // One round trip; the three keys share the tenant's hash tag (one slot on a Cluster).
      const replies = await this.o.redis
        .pipeline()
        .xrange(keys.events(feed.tenantId), `(${feed.head}`, '+', 'COUNT', this.batch)
        .get(keys.presence(feed.tenantId))
        .hlen(keys.online(feed.tenantId))
        .exec();
      const failed = replies?.find(([err]) => err)?.[0];
      if (!replies || failed) throw failed ?? new Error('pipeline aborted');
      const entries = replies[0]![1] as Entry[];
      const version = (replies[1]![1] as string | null) ?? '0';
      // Nothing read is delivered on a credential revoked before the read (docs/live-events.md):
      // the subscribers about to receive something are re-checked first (one pipeline per tick).
      const due = (sub: Subscriber) => (entries.length > 0 && sub.live) || (sub.sink.wantsPresence() && sub.presence !== version);
      const checking = [...feed.subscribers].filter(due);
      if (checking.length > 0) {
        const readAt = performance.now();
        await Promise.all(checking.map((sub) => this.stillAllowed(sub, readAt)));
      }
      for (const e of entries) {
        for (const sub of feed.subscribers) if (sub.live) this.fanOut(feed, sub, e);
        feed.head = e[0];
      }
      full = entries.length === this.batch;
      feed.failing = false;
      this.presence(feed, version, Number(replies[2]![1]));
    } catch (err) {
      if (!feed.failing) this.o.logger.warn({ err, tenant: feed.tenantId }, 'reading the event stream failed; retrying every poll');
      feed.failing = true;
    }
    this.schedule(feed, full ? 0 : this.pollMs);
  }

  /** Sends a presence notice to each subscriber that wants it, has not seen this counter yet and has room in its buffer. */
  private presence(feed: TenantFeed, version: string, online: number): void {
    let notice: PresenceNotice | null = null;
    for (const sub of feed.subscribers) {
      if (sub.closed || sub.presence === version || !sub.sink.wantsPresence() || sub.sink.buffered() > this.maxBufferBytes) continue;
      notice ??= { type: 'presence', ts: Date.now(), data: { tenantId: feed.tenantId, online, version: Number(version) } };
      sub.presence = version;
      sub.sink.notice('presence', notice as unknown as Record<string, unknown>);
    }
  }

  /** Ends every stream and stops every reader. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const feed of this.feeds.values()) if (feed.timer) clearTimeout(feed.timer);
    for (const sub of [...this.subscribers]) this.drop(sub, 'shutting down');
    this.feeds.clear();
  }
}
