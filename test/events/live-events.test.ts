/**
 * Live events over SSE (SPEC H3, A6, T6; docs/live-events.md): the admin API's
 * `GET /api/v1/events` on a hardened node:http server (the HTTP port's idle-socket timeout),
 * real accounts and tokens, a real gateway and agent, real admin jobs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent } from '../../src/events/admin-events.ts';
import { EventFeedHub } from '../../src/events/event-feed.ts';
import { DEFAULT_HTTP_LIMITS, hardenHttpServer, httpServerOptions } from '../../src/gateway/http-hardening.ts';
import { createAdminHttp, type AdminHttp } from '../../src/http/admin-http.ts';
import { eventRoutes } from '../../src/http/routes/event-routes.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { startTestAdmin, type TestAdmin } from '../helpers/admin.ts';
import { bearer, createAuthenticator, createTestAccount, ALL_PERMISSIONS } from '../helpers/accounts.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { redisTarget } from '../helpers/redis.ts';
import { openSse, type SseStream } from '../helpers/sse-client.ts';

const IDLE_TIMEOUT_MS = 300;
const MAX_STREAMS = 6;
let gw: TestGateway;
let admin: TestAdmin;
let hub: EventFeedHub;
let api: AdminHttp;
let server: Server;
let base: string;
const tokens: Record<'technician' | 'readOnly' | 'acmeAdmin', string> = { technician: '', readOnly: '', acmeAdmin: '' };
const open: SseStream[] = [];

beforeAll(async () => {
  gw = await startTestGateway({ pool: { workstation: 5 } });
  await ensureTenant(gw.redis, gw.keys, 'acme');
  admin = await startTestAdmin(gw.ctx);
  const logger = pino({ level: 'silent' });
  hub = new EventFeedHub({ redis: gw.redis, keys: gw.keys, logger, maxStreams: MAX_STREAMS, pollMs: 100, heartbeatMs: 1_000, maxBufferBytes: 64 * 1024, slowMs: 1_000 });
  api = createAdminHttp({
    deps: { ctx: gw.ctx, admin: admin.admin, redisTarget: redisTarget(), logger, events: hub },
    authenticator: createAuthenticator({ redis: gw.redis, keys: gw.keys }),
    modules: [eventRoutes],
    clientAddress: () => '127.0.0.1',
    version: 'test',
    logger,
  });
  // The HTTP port's slowloris bounds, with an idle-socket timeout far below the heartbeat.
  const limits = { ...DEFAULT_HTTP_LIMITS, idleTimeoutMs: IDLE_TIMEOUT_MS };
  server = hardenHttpServer(createServer(httpServerOptions(limits), (req, res) => void api.handler(req, res).then((done) => done || res.writeHead(404).end())), limits);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/events`;
  tokens.technician = (await createTestAccount(gw.redis, gw.keys, { tenantId: DEFAULT_TENANT, permissions: ALL_PERMISSIONS })).apiToken;
  tokens.readOnly = (await createTestAccount(gw.redis, gw.keys, { tenantId: DEFAULT_TENANT, permissions: [] })).apiToken;
  tokens.acmeAdmin = (await createTestAccount(gw.redis, gw.keys, { tenantId: 'acme', permissions: ALL_PERMISSIONS })).apiToken;
}, 30_000);

afterAll(async () => {
  for (const s of open) s.close();
  await api.close();
  await new Promise<void>((r) => server.close(() => r()));
  await admin.stop();
  await gw.stop();
});

async function follow(who: keyof typeof tokens, query = '', headers: Record<string, string> = {}): Promise<SseStream> {
  const s = await openSse(`${base}${query}`, { ...bearer(tokens[who]), ...headers });
  open.push(s);
  return s;
}

const typesOf = (s: SseStream) => s.events.map((e) => e.event);

describe('GET /api/v1/events', () => {
  it('H3 A6: an agent licensed on connect and an admin unassign job arrive live on an open stream', async () => {
    const s = await follow('technician');
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
    await eventually(() => s.retry === 3000, 'the retry hint');
    const agent = newAgent(gw.url, { os: OS.windows });
    await agent.connect();
    await eventually(() => typesOf(s).includes('license.assigned'), 'license.assigned on the stream', 10_000);
    const assigned = s.events.find((e) => e.event === 'license.assigned')!;
    expect(JSON.parse(assigned.data)).toMatchObject({ id: assigned.id, type: 'license.assigned', data: { holder: agent.clientId, type: 'workstation' } });
    await admin.admin.unassign({ actor: { userId: 'technician', tenantId: DEFAULT_TENANT, permissions: ALL_PERMISSIONS }, tenantId: DEFAULT_TENANT, clientId: agent.clientId });
    await eventually(() => typesOf(s).includes('license.unassigned'), 'license.unassigned on the stream', 10_000);
    agent.close();
    s.close();
  }, 30_000);

  it('H3: a stream outlives the HTTP port idle-socket timeout and gets heartbeat comments', async () => {
    const s = await follow('technician');
    await new Promise((r) => setTimeout(r, IDLE_TIMEOUT_MS * 3));
    expect(s.ended).toBe(false);
    await eventually(() => s.comments.includes('ping'), 'a heartbeat comment', 5_000);
    expect(s.ended).toBe(false);
    s.close();
  }, 15_000);

  it('H3: resuming with Last-Event-ID gets exactly the events missed while disconnected', async () => {
    const s = await follow('technician');
    await emitEvent(gw.redis, gw.keys, DEFAULT_TENANT, 'pool.usage', { n: 1 });
    await eventually(() => s.events.some((e) => e.event === 'pool.usage'), 'the first event');
    const seen = s.events.at(-1)!.id!;
    s.close();
    await eventually(() => s.ended, 'the disconnect');
    for (let n = 2; n <= 4; n++) await emitEvent(gw.redis, gw.keys, DEFAULT_TENANT, 'pool.usage', { n });
    const r = await follow('technician', '', { 'last-event-id': seen });
    await emitEvent(gw.redis, gw.keys, DEFAULT_TENANT, 'pool.usage', { n: 5 });
    await eventually(() => r.events.length >= 4, 'the missed events and the next one');
    await new Promise((res) => setTimeout(res, 400)); // nothing more may come (no repeats)
    expect(r.events.map((e) => JSON.parse(e.data).data.n)).toEqual([2, 3, 4, 5]);
    expect(new Set(r.events.map((e) => e.id)).size).toBe(4);
    // The query parameter does the same (for clients that cannot set headers).
    const q = await follow('technician', `?lastEventId=${seen}&types=pool.usage`);
    await eventually(() => q.events.length >= 4, 'the same events by query');
    expect(q.events.map((e) => JSON.parse(e.data).data.n)).toEqual([2, 3, 4, 5]);
    r.close();
    q.close();
  }, 20_000);

  it('H3: a resume id older than the retained events is answered with event: gap, then the events kept', async () => {
    await emitEvent(gw.redis, gw.keys, 'acme', 'pool.usage', { n: 1 });
    const [[old]] = (await gw.redis.xrange(gw.keys.events('acme'), '-', '+', 'COUNT', 1)) as [string, string[]][];
    for (let n = 2; n <= 300; n++) await emitEvent(gw.redis, gw.keys, 'acme', 'pool.usage', { n });
    await gw.redis.xtrim(gw.keys.events('acme'), 'MAXLEN', 50);
    const s = await follow('acmeAdmin', '', { 'last-event-id': old! });
    await eventually(() => s.events.length >= 51, 'the gap and the 50 kept events');
    expect(s.events[0]).toMatchObject({ event: 'gap', id: undefined });
    expect(JSON.parse(s.events[0]!.data)).toMatchObject({ lastEventId: old });
    expect(s.events.slice(1).map((e) => JSON.parse(e.data).data.n)).toEqual(Array.from({ length: 50 }, (_, i) => 251 + i));
    s.close();
  }, 20_000);

  it("T6 H3: tenant B's admin cannot open tenant A's stream: 403 FORBIDDEN before any event byte", async () => {
    const s = await follow('acmeAdmin', `?tenantId=${DEFAULT_TENANT}`);
    expect(s.status).toBe(403);
    expect(s.headers['content-type']).toBe('application/problem+json');
    await eventually(() => s.ended, 'the answer');
    expect(JSON.parse(s.body)).toMatchObject({ code: 'FORBIDDEN' });
    const mine = await follow('acmeAdmin');
    expect(mine.status).toBe(200);
    mine.close();
  });

  it('A2 H3: a read-only account gets license events but not key events; a Tenant Management account gets both', async () => {
    const ro = await follow('readOnly');
    const tech = await follow('technician');
    await eventually(() => ro.retry !== undefined && tech.retry !== undefined, 'both streams open');
    await emitEvent(gw.redis, gw.keys, DEFAULT_TENANT, 'key.activated', { keyId: 'k1' });
    await emitEvent(gw.redis, gw.keys, DEFAULT_TENANT, 'license.assigned', { clientId: 'scoped' });
    await eventually(() => tech.events.length >= 2 && ro.events.length >= 1, 'events on both');
    await new Promise((r) => setTimeout(r, 300));
    expect(typesOf(tech)).toEqual(['key.activated', 'license.assigned']);
    expect(typesOf(ro)).toEqual(['license.assigned']);
    ro.close();
    tech.close();
  });

  it('H3: the open-stream cap answers 503 with Retry-After; a closed stream frees its slot', async () => {
    await eventually(() => hub.open === 0, 'earlier streams released');
    const streams = await Promise.all(Array.from({ length: MAX_STREAMS }, () => follow('technician')));
    expect(streams.every((s) => s.status === 200)).toBe(true);
    const refused = await follow('technician');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    streams[0]!.close();
    await eventually(() => hub.open === MAX_STREAMS - 1, 'the slot freed');
    const again = await follow('technician');
    expect(again.status).toBe(200);
    for (const s of [...streams, again]) s.close();
    await eventually(() => hub.open === 0, 'every slot freed');
  }, 20_000);

  it('H3: a subscriber that stops reading is dropped at its buffer bound; the others get every event', async () => {
    await eventually(() => hub.open === 0, 'earlier streams released');
    const slow = await follow('technician', '?types=pool.usage');
    slow.res.pause(); // reads nothing from here on
    const fast = await follow('technician', '?types=pool.usage');
    await eventually(() => hub.open === 2, 'both subscribed');
    const blob = 'x'.repeat(4_000);
    const N = 3_000;
    let p = gw.redis.pipeline();
    for (let n = 0; n < N; n++) {
      p.xadd(gw.keys.events(DEFAULT_TENANT), '*', 'type', 'pool.usage', 'ts', String(Date.now()), 'data', JSON.stringify({ n, blob }));
      if (p.length >= 500) ((await p.exec()), (p = gw.redis.pipeline()));
    }
    await p.exec();
    await eventually(() => hub.open === 1, 'the slow subscriber dropped', 20_000);
    await eventually(() => fast.events.length === N, `all ${N} events on the reading subscriber`, 20_000);
    expect(fast.events.map((e) => JSON.parse(e.data).data.n)).toEqual(Array.from({ length: N }, (_, i) => i));
    fast.close();
  }, 40_000);

  it('H3: closing the API ends every open stream', async () => {
    const s = await follow('technician');
    await eventually(() => s.retry !== undefined, 'open');
    await hub.close();
    await eventually(() => s.ended, 'the stream ended by the server');
    expect(hub.open).toBe(0);
  });
});
