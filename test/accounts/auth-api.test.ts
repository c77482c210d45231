/**
 * H2 Z2 over real HTTP (ApiRouter on node:http, real Redis): login, sessions and CSRF, idle
 * expiry, logout, disabling, API tokens, login limits, and who may manage accounts (T6).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountService } from '../../src/accounts/account-service.ts';
import { AccountStore } from '../../src/accounts/account-store.ts';
import { PERMISSIONS } from '../../src/licensing/permissions.ts';
import { bearer, createTestAccount, ALL_PERMISSIONS } from '../helpers/accounts.ts';
import { sessionCookieOf, startAccountApi, type AccountApi } from '../helpers/account-http.ts';
import { eventually } from '../helpers/gateway.ts';
import { connectRedis, newKeys } from '../helpers/redis.ts';

const redis = await connectRedis();
const keys = newKeys('authapi');
const PASSWORD = 'correct horse battery staple';
let api: AccountApi;
/** Idle sessions end after 2 s in the idle test's own API (SESSION_IDLE_MINUTES as a fraction). */
const IDLE_MS = 2_000;

beforeAll(async () => {
  api = await startAccountApi(redis, keys); // default times: 30 min idle, 12 h
});
afterAll(async () => {
  await api.close();
  redis.disconnect();
});

/** An account with a password, made the way people make one: a set-up link. */
async function accountWithPassword(name: string, tenantId: string, permissions = ALL_PERMISSIONS, password = PASSWORD) {
  const service = new AccountService({ redis, keys });
  const made = await service.createAccount({ name, tenantId, permissions }, 'test');
  await service.setPasswordWithToken(made.setupToken, password);
  return made.account;
}

async function login(name: string, password = PASSWORD, source = '10.0.0.1') {
  const r = await api.call('POST', '/auth/login', { body: { name, password }, headers: { 'x-test-source': source } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return { cookie: sessionCookieOf(r.headers), csrf: r.body.csrfToken as string, setCookie: r.headers.get('set-cookie')!, body: r.body };
}

describe('sessions and CSRF', () => {
  it('H2 Z2: login sets an HttpOnly SameSite=Strict cookie; a POST without X-CSRF-Token is CSRF_FAILED and changes nothing; with it, accepted', async () => {
    const account = await accountWithPassword('Ann', 'default');
    const s = await login('ANN'); // names are case-insensitive
    expect(s.setCookie).toMatch(/^lg_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/); // SESSION_MAX_HOURS 12
    expect(s.body).toMatchObject({ account: { id: account.id, name: 'Ann', passwordSet: true }, csrfToken: expect.any(String) });
    expect(JSON.stringify(s.body)).not.toMatch(/scrypt|passwordHash/);
    const who = await api.call('GET', '/auth/session', { headers: { cookie: s.cookie } });
    expect(who.body).toMatchObject({ account: { id: account.id }, via: 'session', csrfToken: s.csrf });

    const refused = await api.call('POST', '/tokens', { body: { name: 'ci' }, headers: { cookie: s.cookie } });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('CSRF_FAILED');
    const wrong = await api.call('POST', '/tokens', { body: { name: 'ci' }, headers: { cookie: s.cookie, 'x-csrf-token': `${s.csrf.slice(0, -1)}${s.csrf.endsWith('A') ? 'B' : 'A'}` } });
    expect(wrong.body.code).toBe('CSRF_FAILED');
    expect((await api.call('GET', '/tokens', { headers: { cookie: s.cookie } })).body.tokens).toEqual([]);

    const ok = await api.call('POST', '/tokens', { body: { name: 'ci' }, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
    expect(ok.status).toBe(201);
    expect((await api.call('GET', '/tokens', { headers: { cookie: s.cookie } })).body.tokens).toHaveLength(1);
    // Bearer requests need no CSRF token.
    expect((await api.call('POST', '/tokens', { body: { name: 'by token' }, headers: bearer(ok.body.token) })).status).toBe(201);
  });

  it('H2: a cross-origin Origin header is refused (CSRF_FAILED) even with the CSRF token; the same origin is accepted', async () => {
    await accountWithPassword('origin-test', 'default');
    const s = await login('origin-test');
    const host = new URL(api.url).host;
    const evil = await api.call('POST', '/tokens', { body: {}, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: 'https://evil.example' } });
    expect(evil.status).toBe(403);
    expect(evil.body.code).toBe('CSRF_FAILED');
    expect((await api.call('POST', '/tokens', { body: {}, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: 'null' } })).body.code).toBe('CSRF_FAILED');
    expect((await api.call('GET', '/tokens', { headers: { cookie: s.cookie } })).body.tokens).toEqual([]);
    expect((await api.call('POST', '/tokens', { body: {}, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: `http://${host}` } })).status).toBe(201);
  });

  it('H2: an idle session ends after SESSION_IDLE_MINUTES (here 2 s) → 401; use keeps it alive meanwhile', async () => {
    const short = await startAccountApi(redis, keys, { sessionTimes: { idleMs: IDLE_MS, maxMs: 3_600_000 } });
    try {
      await accountWithPassword('idle', 'default');
      const loginAt = async () => {
        const r = await short.call('POST', '/auth/login', { body: { name: 'idle', password: PASSWORD } });
        expect(r.status).toBe(200);
        expect(r.headers.get('set-cookie')).toContain('Max-Age=3600');
        return sessionCookieOf(r.headers);
      };
      const used = await loginAt();
      // Used every 0.4 s for over 3 s (longer than the idle time): it stays alive.
      for (let i = 0; i < 8; i++) {
        expect((await short.call('GET', '/auth/session', { headers: { cookie: used } })).status).toBe(200);
        await new Promise((r) => setTimeout(r, 400));
      }
      const unused = await loginAt();
      const sessionKey = keys.session(createHash('sha256').update(unused.slice('lg_session='.length)).digest('hex'));
      expect(await redis.pttl(sessionKey)).toBeLessThanOrEqual(IDLE_MS);
      await eventually(async () => (await redis.exists(sessionKey)) === 0, 'idle session key expired', 10_000);
      const r = await short.call('GET', '/auth/session', { headers: { cookie: unused } });
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('UNAUTHENTICATED');
    } finally {
      await short.close();
    }
  });

  it('H2: logout ends the session (401 afterwards) and clears the cookie', async () => {
    await accountWithPassword('leaver', 'default');
    const s = await login('leaver');
    expect((await api.call('POST', '/auth/logout', { headers: { cookie: s.cookie } })).body.code).toBe('CSRF_FAILED');
    const out = await api.call('POST', '/auth/logout', { headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
    expect(out.body).toEqual({ sessionEnded: true });
    expect(out.headers.get('set-cookie')).toMatch(/^lg_session=; HttpOnly; SameSite=Strict; Path=\/; Max-Age=0$/);
    expect((await api.call('GET', '/auth/session', { headers: { cookie: s.cookie } })).status).toBe(401);
  });

  it('H2: disabling an account ends its sessions and refuses its API tokens (401); changing the password ends the other sessions', async () => {
    // The admin acts by API token: its session would idle out (2 s here) during the scrypt-heavy steps below.
    const admin = await createTestAccount(redis, keys, { name: 'boss', tenantId: 'default', permissions: ALL_PERMISSIONS });
    const target = await accountWithPassword('worker', 'default', [PERMISSIONS.clients]);
    const s1 = await login('worker');
    const s2 = await login('worker');
    const token = (await api.call('POST', '/tokens', { body: {}, headers: { cookie: s1.cookie, 'x-csrf-token': s1.csrf } })).body.token as string;
    expect((await api.call('GET', '/auth/session', { headers: bearer(token) })).body.via).toBe('token');

    const changed = await api.call('POST', '/auth/password', { body: { current: PASSWORD, new: 'a brand new password' }, headers: { cookie: s1.cookie, 'x-csrf-token': s1.csrf } });
    expect(changed.status).toBe(200);
    const s1b = { cookie: sessionCookieOf(changed.headers), csrf: changed.body.csrfToken as string };
    expect((await api.call('GET', '/auth/session', { headers: { cookie: s2.cookie } })).status).toBe(401);
    expect((await api.call('GET', '/auth/session', { headers: { cookie: s1.cookie } })).status).toBe(401);
    expect((await api.call('GET', '/auth/session', { headers: { cookie: s1b.cookie } })).status).toBe(200);

    const off = await api.call('PATCH', `/accounts/${target.id}`, { body: { disabled: true }, headers: bearer(admin.apiToken) });
    expect(off.body.account).toMatchObject({ disabled: true });
    expect((await api.call('GET', '/auth/session', { headers: { cookie: s1b.cookie } })).status).toBe(401);
    const byToken = await api.call('GET', '/auth/session', { headers: bearer(token) });
    expect(byToken.status).toBe(401);
    expect(byToken.body.code).toBe('UNAUTHENTICATED');
    expect((await api.call('POST', '/auth/login', { body: { name: 'worker', password: 'a brand new password' } })).body.code).toBe('LOGIN_FAILED');
  });
});

describe('API tokens', () => {
  it('H2 Z2: a token is shown once (list shows no secret), works as Bearer, is refused after revocation and after its expiry', async () => {
    const { account, apiToken } = await createTestAccount(redis, keys, { tenantId: 'acme', permissions: [] });
    const made = await api.call('POST', '/tokens', { body: { name: 'short', expiresInDays: 2 / 86_400 }, headers: bearer(apiToken) });
    expect(made.status).toBe(201);
    expect(made.body.token).toMatch(/^lgt_[a-f0-9]{16}_[A-Za-z0-9_-]{43}$/);
    const list = await api.call('GET', '/tokens', { headers: bearer(made.body.token) });
    expect(list.body.tokens.map((t: { name: string }) => t.name).sort()).toEqual(['short', 'test']);
    // The secret is everything after `lgt_<16 hex>_`; it may itself contain '_' (base64url).
    expect(JSON.stringify(list.body)).not.toContain((made.body.token as string).slice('lgt_'.length + 17));
    expect(JSON.stringify(list.body)).not.toMatch(/secretHash/);
    expect(list.body.tokens.find((t: { name: string }) => t.name === 'short').lastUsedAt).toEqual(expect.any(Number));
    await eventually(async () => (await api.call('GET', '/auth/session', { headers: bearer(made.body.token) })).status === 401, 'expired token refused', 10_000);

    const other = await api.call('POST', '/tokens', { body: {}, headers: bearer(apiToken) });
    const id = other.body.info.id as string;
    expect((await api.call('DELETE', `/tokens/${id}`, { headers: bearer(apiToken) })).body.revoked).toMatchObject({ id, accountId: account.id });
    expect((await api.call('GET', '/auth/session', { headers: bearer(other.body.token) })).status).toBe(401);
    expect((await api.call('DELETE', `/tokens/${id}`, { headers: bearer(apiToken) })).body.code).toBe('API_TOKEN_NOT_FOUND');
  });
});

describe('login limits', () => {
  it('H2: 5 failed logins of one account lock it (429 LOGIN_RATE_LIMITED, Retry-After) even with the right password; other accounts are unaffected', async () => {
    await accountWithPassword('target', 'default');
    for (let i = 0; i < 5; i++) {
      const r = await api.call('POST', '/auth/login', { body: { name: 'target', password: `wrong password ${i}` }, headers: { 'x-test-source': `10.1.0.${i}` } });
      expect(r.body.code).toBe('LOGIN_FAILED');
    }
    const locked = await api.call('POST', '/auth/login', { body: { name: 'target', password: PASSWORD }, headers: { 'x-test-source': '10.1.1.1' } });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('LOGIN_RATE_LIMITED');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await accountWithPassword('bystander', 'default');
    await login('bystander', PASSWORD, '10.1.1.1');
    // After the backoff (1 s for the 5th failure) the right password works, and resets the count.
    await eventually(async () => (await api.call('POST', '/auth/login', { body: { name: 'target', password: PASSWORD }, headers: { 'x-test-source': '10.1.1.1' } })).status === 200, 'login after the backoff', 10_000);
    expect(await redis.exists(keys.loginFailures('target'))).toBe(0);
  });

  it('H2: 20 failed logins from one address in 5 minutes lock that address (429 with Retry-After), for unknown names too; another address still logs in', async () => {
    await accountWithPassword('victim', 'default');
    for (let i = 0; i < 20; i++) {
      const r = await api.call('POST', '/auth/login', { body: { name: `nobody-${i}`, password: 'guess guess guess' }, headers: { 'x-test-source': '192.0.2.7' } });
      expect(r.body.code).toBe('LOGIN_FAILED');
    }
    const locked = await api.call('POST', '/auth/login', { body: { name: 'victim', password: PASSWORD }, headers: { 'x-test-source': '192.0.2.7' } });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('LOGIN_RATE_LIMITED');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(200);
    await login('victim', PASSWORD, '192.0.2.8');
  });
});

describe('who manages accounts (T6)', () => {
  it('H2 T6: a tenant admin manages only its tenant and grants only what it holds; a read-only account manages nothing; the set-up link sets a password once', async () => {
    const acmeAdmin = await createTestAccount(redis, keys, { tenantId: 'acme', permissions: [PERMISSIONS.tenants, PERMISSIONS.clients] });
    const readOnly = await createTestAccount(redis, keys, { tenantId: 'acme', permissions: [] });
    const made = await api.call('POST', '/accounts', { body: { name: 'acme-ops', permissions: [PERMISSIONS.clients] }, headers: bearer(acmeAdmin.apiToken) });
    expect(made.status).toBe(201);
    expect(made.body.account).toEqual({ id: 'acme-ops', name: 'acme-ops', tenantId: 'acme', permissions: [PERMISSIONS.clients], createdAt: expect.any(Number), disabled: false, passwordSet: false });
    expect(made.body.setupUrl).toBe(`${api.url}/setup#token=${made.body.setupToken}`);

    const forbidden = [
      await api.call('POST', '/accounts', { body: { name: 'x1', tenantId: 'default', permissions: [] }, headers: bearer(acmeAdmin.apiToken) }),
      await api.call('POST', '/accounts', { body: { name: 'x2', permissions: [PERMISSIONS.licenses] }, headers: bearer(acmeAdmin.apiToken) }),
      await api.call('POST', '/accounts', { body: { name: 'x3', permissions: [] }, headers: bearer(readOnly.apiToken) }),
      await api.call('GET', '/accounts?tenantId=default', { headers: bearer(acmeAdmin.apiToken) }),
      await api.call('PATCH', '/accounts/acme-ops', { body: { permissions: [PERMISSIONS.licenses] }, headers: bearer(acmeAdmin.apiToken) }),
      await api.call('DELETE', '/accounts/acme-ops', { headers: bearer(readOnly.apiToken) }),
    ];
    expect(forbidden.map((r) => `${r.status} ${r.body.code}`)).toEqual(Array(6).fill('403 FORBIDDEN'));
    expect((await api.call('GET', '/accounts', { headers: bearer(acmeAdmin.apiToken) })).body.accounts.every((a: { tenantId: string }) => a.tenantId === 'acme')).toBe(true);
    expect(await new AccountStore(redis, keys).idByName('x1')).toBeNull();

    const short = await api.call('POST', '/auth/setup', { body: { token: made.body.setupToken, password: 'short' } });
    expect(short.status).toBe(422);
    const set = await api.call('POST', '/auth/setup', { body: { token: made.body.setupToken, password: PASSWORD } });
    expect(set.body.account).toMatchObject({ id: 'acme-ops', passwordSet: true });
    expect((await api.call('POST', '/auth/setup', { body: { token: made.body.setupToken, password: PASSWORD } })).body.code).toBe('SETUP_TOKEN_INVALID');
    await login('acme-ops');
    const reset = await api.call('POST', '/accounts/acme-ops/reset-password', { headers: bearer(acmeAdmin.apiToken) });
    expect(reset.body.account.passwordSet).toBe(false);
    expect((await api.call('POST', '/auth/login', { body: { name: 'acme-ops', password: PASSWORD } })).body.code).toBe('LOGIN_FAILED');
  });

  it("H2: the default tenant's last enabled technician cannot be disabled, stripped or deleted (LAST_ADMIN); with a second one it can", async () => {
    const k = newKeys('last');
    const local = await startAccountApi(redis, k);
    try {
      const tech = await createTestAccount(redis, k, { name: 'tech', tenantId: 'default', permissions: ALL_PERMISSIONS });
      for (const r of [
        await local.call('PATCH', '/accounts/tech', { body: { disabled: true }, headers: bearer(tech.apiToken) }),
        await local.call('PATCH', '/accounts/tech', { body: { permissions: [PERMISSIONS.tenants] }, headers: bearer(tech.apiToken) }),
        await local.call('DELETE', '/accounts/tech', { headers: bearer(tech.apiToken) }),
      ]) expect(`${r.status} ${r.body.code}`).toBe('409 LAST_ADMIN');
      await local.call('POST', '/accounts', { body: { name: 'tech2', permissions: ALL_PERMISSIONS }, headers: bearer(tech.apiToken) });
      expect((await local.call('DELETE', '/accounts/tech', { headers: bearer(tech.apiToken) })).body.deleted.id).toBe('tech');
      expect((await local.call('GET', '/auth/session', { headers: bearer(tech.apiToken) })).status).toBe(401);
    } finally {
      await local.close();
    }
  });
});
