/**
 * `GET /api/v1/events` — the tenant's event stream as server-sent events (SPEC H3, A6, T6;
 * docs/live-events.md). The tenant is checked before any byte of the stream is written
 * (another tenant's → 403 FORBIDDEN); `key.*` events go only to accounts holding Tenant
 * Management (A2), license and pool events to every account of the tenant. Resumable with
 * `Last-Event-ID` (or `lastEventId`): nothing missed, nothing repeated, and a resume point older
 * than what retention kept is said with an `event: gap`.
 *
 * A stream lives only as long as its credential (H2): the session or API token it was opened
 * with is re-checked every `recheckMs` (5 s) while idle and before every delivery
 * (src/accounts/credential-monitor.ts). When it is no longer valid — signed out, session idle or
 * past its maximum age, password changed, token revoked or expired, account disabled or deleted —
 * or the account lost what this stream shows (its tenant scope; Tenant Management for a stream
 * carrying key events), the stream ends with one final
 * `event: end` / `data: {"reason":"UNAUTHENTICATED"|"FORBIDDEN","detail":…}` and is closed.
 */
import { z } from 'zod';
import { CredentialMonitor, streamCredentialOf, type CredentialVerdict } from '../../accounts/credential-monitor.ts';
import { LicensegateError } from '../../errors.ts';
import type { EventType } from '../../events/admin-events.ts';
import { FOLLOW_TYPES, type FollowType } from '../../events/event-types.ts';
import type { EventFeedHub } from '../../events/event-feed.ts';
import { compareStreamIds, normalizeStreamId, STREAM_ID } from '../../events/stream-ids.ts';
import { authorizeTenant, PERMISSIONS } from '../../licensing/permissions.ts';
import { DEFAULT_TENANT } from '../../store/keys.ts';
import type { RouteModule } from '../api-deps.ts';
import { route } from '../route.ts';
import { principalOf } from './job-call.ts';
import { tenantIdSchema } from './schemas.ts';
import { sseSink } from './sse-sink.ts';


/** What the browser waits before reconnecting (the `retry:` field). */
export const SSE_RETRY_MS = 3_000;

const typesSchema = z
  .string()
  .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))
  .pipe(z.array(z.enum(FOLLOW_TYPES)).min(1))
  .describe(`comma-separated event types to receive (default: every stored type the account may see; \`presence\` notices only when listed): ${FOLLOW_TYPES.join(', ')}`);

const querySchema = z.object({
  tenantId: tenantIdSchema.optional().describe("the tenant whose events to follow (default: the account's; only default-tenant accounts may name another)"),
  types: typesSchema.optional(),
  lastEventId: z.string().regex(STREAM_ID).optional().describe('resume after this event id (the Last-Event-ID header wins when both are sent)'),
});

/** The hub of a module built without one (tests of a single module) is made on first use. */
export const eventRoutes: RouteModule = (deps) => {
  const hub = (): EventFeedHub => {
    if (!deps.events) throw new LicensegateError('INTERNAL_ERROR', 'the admin API was built without an event hub');
    return deps.events;
  };
  /** One monitor per module (per process): re-checks batch every stream's credential together. */
  let monitor: CredentialMonitor | undefined;
  const credentials = (): CredentialMonitor => (monitor ??= new CredentialMonitor({ redis: deps.ctx.redis, keys: deps.ctx.keys, intervalMs: hub().recheckMs }));
  return [
    route({
      method: 'GET',
      path: '/events',
      operationId: 'followEvents',
      summary: "Follow the tenant's events live (server-sent events; resumable with Last-Event-ID)",
      tag: 'Events',
      auth: 'account',
      query: querySchema,
      raw: { contentType: 'text/event-stream' },
      response: z.string().describe('`text/event-stream`: `id: <stream id>`, `event: <type>`, `data: <JSON {id, type, ts, data}>`; `event: gap` when the resume point was trimmed; `event: presence` (only when `types` lists it; no id; `data: <JSON {type, ts, data: {tenantId, online, version}}>`) at most every 250 ms while Clients connect or disconnect; `: ping` every 15 s; a last `event: end` (`data: {reason, detail}`) when the credential stops being valid'),
      handler: async ({ query, principal, req, res }) => {
        // Listened to first: a peer gone during the checks below must not leave a subscriber behind.
        const closed = req.socket.destroyed ? Promise.resolve() : new Promise<void>((resolve) => res.once('close', () => resolve()));
        const actor = principalOf({ principal }).actor;
        const tenantId = query.tenantId ?? actor.tenantId;
        authorizeTenant(actor, tenantId, 'following events');
        const header = req.headers['last-event-id'];
        const resume = (Array.isArray(header) ? header[0] : header) ?? query.lastEventId;
        if (resume !== undefined && !STREAM_ID.test(resume)) throw new LicensegateError('INVALID_REQUEST', 'Last-Event-ID must be an event id (<ms>-<seq>)');
        const { redis, keys } = deps.ctx;
        if ((await redis.exists(keys.tenant(tenantId))) === 0) throw new LicensegateError('UNKNOWN_TENANT', tenantId);
        const feeds = hub();
        const release = feeds.reserve();
        try {
          const end = await feeds.lastId(tenantId);
          let start = end;
          let gap: Record<string, unknown> | null = null;
          if (resume !== undefined) {
            const from = normalizeStreamId(resume);
            if (compareStreamIds(from, end) > 0) {
              gap = { reason: 'resume id is after the newest event', lastEventId: resume, resumedAfter: end };
            } else {
              start = from;
              const trimmed = await feeds.gapAfter(tenantId, from);
              if (trimmed) gap = { reason: 'events after the resume id were trimmed (retention)', lastEventId: resume, oldestId: trimmed.oldest };
            }
          }
          const keyEvents = actor.permissions.includes(PERMISSIONS.tenants);
          const only = query.types ? new Set<FollowType>(query.types) : null;
          const wants = (type: EventType) => (keyEvents || !type.startsWith('key.')) && (!only || only.has(type));
          // Key events are written to the default tenant's stream only.
          const carriesKeys = keyEvents && tenantId === DEFAULT_TENANT && (!only || [...only].some((t) => t.startsWith('key.')));
          /** Why the stream must end now, or null. */
          const endsWith = (v: CredentialVerdict): { reason: 'UNAUTHENTICATED' | 'FORBIDDEN'; detail: string } | null => {
            if (!v.ok) return { reason: 'UNAUTHENTICATED', detail: v.detail };
            try {
              authorizeTenant(v.actor, tenantId, 'following events');
            } catch {
              return { reason: 'FORBIDDEN', detail: `the account may no longer read tenant ${tenantId}` };
            }
            if (carriesKeys && !v.actor.permissions.includes(PERMISSIONS.tenants)) return { reason: 'FORBIDDEN', detail: `the account no longer holds ${PERMISSIONS.tenants} (key events)` };
            return null;
          };
          const base = sseSink(res, wants, only?.has('presence') ?? false);
          let finished = false;
          let unwatch = (): void => undefined;
          const finish = (why: { reason: string; detail: string }): void => {
            if (finished) return;
            finished = true;
            unwatch();
            base.notice('end', why);
            res.end();
            deps.logger.info({ accountId: principal!.accountId, tenant: tenantId, ...why }, 'event stream ended: its credential no longer allows it');
          };
          const credential = streamCredentialOf(req, principal!);
          const sink = credential
            ? {
                ...base,
                recheck: async (readAt: number): Promise<boolean> => {
                  const why = endsWith(await credentials().fresh(credential, readAt));
                  if (why) finish(why);
                  return !finished;
                },
              }
            : base;
          // Long-lived on purpose: the HTTP port's idle-socket timeout (http-hardening.ts) would cut it; heartbeats keep it honest.
          req.socket.setTimeout(0);
          res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
          if (req.method === 'HEAD') {
            res.end();
            release();
            return '';
          }
          res.write(`retry: ${SSE_RETRY_MS}\n\n`);
          if (gap) sink.notice('gap', gap);
          if (credential) {
            unwatch = credentials().watch(credential, (v) => {
              const why = endsWith(v);
              if (why) finish(why);
            });
          }
          const unsubscribe = feeds.subscribe(tenantId, start, end, sink, release);
          await closed;
          unwatch();
          unsubscribe();
          return '';
        } catch (err) {
          release();
          throw err;
        }
      },
    }),
  ];
};
