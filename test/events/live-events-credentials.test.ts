/**
 * H2 H3 A2: an open event stream lives only as long as the credential it was opened with
 * (docs/live-events.md). Revoking the API token, logging out, changing the password, disabling
 * the account, losing the permission the stream relies on, or the session idling out ends the
 * stream with a final `event: end` that says why — and no event written after the change is
 * delivered on it. Real admin routes (auth, accounts, tokens, events) on node:http, real Redis.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountService } from '../../src/accounts/account-service.ts';
import type { SessionTimes } from '../../src/accounts/sessions.ts';
import type { AdminClient } from '../../src/admin/client.ts';
import { emitEvent } from '../../src/events/admin-events.ts';
import { EventFeedHub, type EventFeedOptions } from '../../src/events/event-feed.ts';
import { createAdminHttp, type AdminHttp } from '../../src/http/admin-http.ts';
import { accountRoutes } from '../../src/http/routes/account-routes.ts';
import { authRoutes } from '../../src/http/routes/auth-routes.ts';
import { eventRoutes } from '../../src/http/routes/event-routes.ts';
import { tokenRoutes } from '../../src/http/routes/token-routes.ts';
import { PERMISSIONS, type Permission } from '../../src/licensing/permissions.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { bearer, createAuthenticator, createTestAccount, ALL_PERMISSIONS } from '../helpers/accounts.ts';
import { sessionCookieOf } from '../helpers/account-http.ts';
import { eventually } from '../helpers/gateway.ts';
import { connectRedis, newKeys, redisTarget } from '../helpers/redis.ts';
import { openSse, type SseStream } from '../helpers/sse-client.ts';

const redis = await connectRedis();
const keys = newKeys('sseauth');
const PASSWORD = 'correct horse battery staple';
/** The periodic re-check of idle streams, short for the test (default 5 s). */
const RECHECK_MS = 1_000;
const logger = pino({ level: 'silent' });

interface Api {
  url: string;
  hub: EventFeedHub;
  http: AdminHttp;
  server: Server;
}
const apis: Api[] = [];
const streams: SseStream[] = [];
let api: Api;

async function startApi(sessionTimes: SessionTimes): Promise<Api> {
  const hub = new EventFeedHub({ redis, keys, logger, maxStreams: 300, pollMs: 100, heartbeatMs: 1_000, recheckMs: RECHECK_MS } as EventFeedOptions);
  const http = createAdminHttp({
    deps: { ctx: { redis, keys, vendorKeys: [] }, admin: {} as AdminClient, redisTarget: redisTarget(), logger, events: hub, sessionTimes },
    authenticator: createAuthenticator({ redis, keys, sessionTimes }),
    modules: [authRoutes, accountRoutes, tokenRoutes, eventRoutes],
    clientAddress: () => '127.0.0.1',
    version: 'test',
    logger,
  });
  const server = createServer((req, res) => void http.handler(req, res).then((done) => done || res.writeHead(404).end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`, hub, http, server };
  apis.push(a);
  return a;
}

let adminToken = '';
beforeAll(async () => {
  await ensureTenant(redis, keys, DEFAULT_TENANT);
  api = await startApi({ idleMs: 30 * 60_000, maxMs: 12 * 3_600_000 });
  adminToken = (await createTestAccount(redis, keys, { tenantId: DEFAULT_TENANT, permissions: ALL_PERMISSIONS })).apiToken;
});
afterAll(async () => {
  for (const s of streams) s.close();
  for (const a of apis) {
    await a.http.close();
    await new Promise<void>((r) => a.server.close(() => r()));
  }
  redis.disconnect();
});

async function call(a: Api, method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const r = await fetch(`${a.url}${path}`, { method, headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : undefined };
}

let counter = 0;
async function accountWithPassword(permissions: readonly Permission[]) {
  const service = new AccountService({ redis, keys });
  const made = await service.createAccount({ name: `viewer-${++counter}-${Date.now()}`, tenantId: DEFAULT_TENANT, permissions }, 'test');
  await service.setPasswordWithToken(made.setupToken, PASSWORD);
  return made.account;
}

async function login(a: Api, name: string) {
  const r = await call(a, 'POST', '/auth/login', {}, { name, password: PASSWORD });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return { cookie: sessionCookieOf(r.headers), csrf: r.body.csrfToken as string };
}

async function follow(a: Api, headers: Record<string, string>): Promise<SseStream> {
  const s = await openSse(`${a.url}/events`, headers);
  streams.push(s);
  expect(s.status, s.body).toBe(200);
  return s;
}

/** Writes a license event with a marker and returns the marker. */
async function emit(marker: string): Promise<string> {
  await emitEvent(redis, keys, DEFAULT_TENANT, 'license.assigned', { holder: marker, type: 'workstation', reason: 'test', actor: 'test', cause: 'test' });
  return marker;
}
const holders = (s: SseStream) => s.events.filter((e) => e.event === 'license.assigned').map((e) => (JSON.parse(e.data) as { data: { holder: string } }).data.holder);
const endOf = (s: SseStream) => {
  const e = s.events.find((x) => x.event === 'end');
  return e ? (JSON.parse(e.data) as { reason: string; detail: string }) : undefined;
};

/** Waits until the stream is closed by the server; the bound covers the re-check interval with room for a loaded box. */
async function ended(s: SseStream, what: string): Promise<void> {
  await eventually(() => s.ended, `${what}: the stream ends`, RECHECK_MS * 8);
}

describe('event streams end with their credential', () => {
  it('H2 H3: revoking the API token ends its stream with event: end (UNAUTHENTICATED); an event written after the revoke never arrives; another stream goes on', async () => {
    const made = await createTestAccount(redis, keys, { tenantId: DEFAULT_TENANT, permissions: [] });
    const control = await follow(api, bearer(adminToken));
    const s = await follow(api, bearer(made.apiToken));
    const before = await emit('before-revoke');
    await eventually(() => holders(s).includes(before) && holders(control).includes(before), 'both streams get the first event');
    const tokenId = made.apiToken.slice(4, 20);
    expect((await call(api, 'DELETE', `/tokens/${tokenId}`, bearer(made.apiToken))).status).toBe(200);
    const after = await emit('after-revoke');
    await ended(s, 'revoked token');
    await eventually(() => holders(control).includes(after), 'the control stream gets the later event');
    expect(holders(s)).toEqual([before]);
    expect(endOf(s)).toMatchObject({ reason: 'UNAUTHENTICATED' });
    expect(control.ended).toBe(false);
  });

  it('H2 H3: logout ends that session stream; a password change ends the streams of every other session', async () => {
    const account = await accountWithPassword([]);
    const a = await login(api, account.name);
    const b = await login(api, account.name);
    const c = await login(api, account.name);
    const sa = await follow(api, { cookie: a.cookie });
    const sb = await follow(api, { cookie: b.cookie });
    expect((await call(api, 'POST', '/auth/logout', { cookie: a.cookie, 'x-csrf-token': a.csrf })).status).toBe(200);
    const afterLogout = await emit('after-logout');
    await ended(sa, 'logout');
    await eventually(() => holders(sb).includes(afterLogout), 'the other session still gets events');
    expect(holders(sa)).toEqual([]);
    expect(endOf(sa)).toMatchObject({ reason: 'UNAUTHENTICATED' });

    expect((await call(api, 'POST', '/auth/password', { cookie: c.cookie, 'x-csrf-token': c.csrf }, { current: PASSWORD, new: `${PASSWORD} 2` })).status).toBe(200);
    const afterChange = await emit('after-password-change');
    await ended(sb, 'password change');
    expect(holders(sb)).not.toContain(afterChange);
    expect(endOf(sb)).toMatchObject({ reason: 'UNAUTHENTICATED' });
  });

  it('H2 H3: disabling the account ends both its session stream and its token stream', async () => {
    const account = await accountWithPassword([PERMISSIONS.clients]);
    const session = await login(api, account.name);
    const made = await call(api, 'POST', '/tokens', { cookie: session.cookie, 'x-csrf-token': session.csrf }, { name: 'svc' });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const viaSession = await follow(api, { cookie: session.cookie });
    const viaToken = await follow(api, bearer(made.body.token as string));
    expect((await call(api, 'PATCH', `/accounts/${account.id}`, bearer(adminToken), { disabled: true })).status).toBe(200);
    const after = await emit('after-disable');
    await ended(viaSession, 'disabled (session)');
    await ended(viaToken, 'disabled (token)');
    expect(holders(viaSession)).not.toContain(after);
    expect(holders(viaToken)).not.toContain(after);
    expect(endOf(viaSession)).toMatchObject({ reason: 'UNAUTHENTICATED' });
    expect(endOf(viaToken)).toMatchObject({ reason: 'UNAUTHENTICATED' });
  });

  it('A2 H3: losing Tenant Management ends a stream that carries key events (FORBIDDEN); a stream that never carried them goes on', async () => {
    const manager = await createTestAccount(redis, keys, { tenantId: DEFAULT_TENANT, permissions: ALL_PERMISSIONS });
    const licensesOnly = await createTestAccount(redis, keys, { tenantId: DEFAULT_TENANT, permissions: [PERMISSIONS.tenants, PERMISSIONS.clients] });
    const s = await follow(api, bearer(manager.apiToken));
    const narrow = await openSse(`${api.url}/events?types=license.assigned`, bearer(licensesOnly.apiToken));
    streams.push(narrow);
    expect((await call(api, 'PATCH', `/accounts/${manager.account.id}`, bearer(adminToken), { permissions: [PERMISSIONS.clients, PERMISSIONS.licenses] })).status).toBe(200);
    expect((await call(api, 'PATCH', `/accounts/${licensesOnly.account.id}`, bearer(adminToken), { permissions: [PERMISSIONS.clients] })).status).toBe(200);
    const after = await emit('after-downgrade');
    await ended(s, 'permission removed');
    await eventually(() => holders(narrow).includes(after), 'the license-only stream goes on');
    expect(holders(s)).not.toContain(after);
    expect(endOf(s)).toMatchObject({ reason: 'FORBIDDEN' });
    expect(narrow.ended).toBe(false);
  });

  it('H3: 256 streams of one token cost one re-check (2 HMGETs) per interval while idle, and one per delivering poll — not one read per stream', async () => {
    const made = await createTestAccount(redis, keys, { tenantId: DEFAULT_TENANT, permissions: [] });
    const many = await Promise.all(Array.from({ length: 256 }, () => openSse(`${api.url}/events`, bearer(made.apiToken))));
    streams.push(...many);
    expect(many.every((s) => s.status === 200)).toBe(true);
    const hmgets = async () => Number(/cmdstat_hmget:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
    // Idle: only the periodic re-check reads (the other streams of this file are closed or few).
    const idleFrom = await hmgets();
    const idleStart = Date.now();
    await new Promise((r) => setTimeout(r, RECHECK_MS * 3));
    const idleCalls = (await hmgets()) - idleFrom;
    const intervals = (Date.now() - idleStart) / RECHECK_MS;
    // Every open credential of this file (at most 8) checks once per interval: far below 256 per interval.
    expect(idleCalls).toBeLessThanOrEqual(2 * 8 * (intervals + 1));
    // Delivering: one batched check per poll that found events, whatever the number of streams.
    const busyFrom = await hmgets();
    for (let i = 0; i < 5; i++) await emit(`busy-${i}`);
    await eventually(() => many.every((s) => holders(s).includes('busy-4')), 'every stream gets the events', 15_000);
    const busyCalls = (await hmgets()) - busyFrom;
    expect(busyCalls).toBeLessThan(256);
    console.info(`256 streams, one token: ${idleCalls} HMGETs in ${intervals.toFixed(1)} idle re-check intervals; ${busyCalls} HMGETs to deliver 5 events to all 256`);
    for (const s of many) s.close();
  });

  it('H2 H3: a session that idles out ends its stream (an open stream does not keep the session alive)', async () => {
    const short = await startApi({ idleMs: 2_000, maxMs: 3_600_000 });
    const account = await accountWithPassword([]);
    const session = await login(short, account.name);
    const s = await follow(short, { cookie: session.cookie });
    await eventually(() => s.ended, 'the idle session ends its stream', 2_000 + RECHECK_MS * 8);
    expect(endOf(s)).toMatchObject({ reason: 'UNAUTHENTICATED' });
    expect((await call(short, 'GET', '/auth/session', { cookie: session.cookie })).status).toBe(401);
  });
});
