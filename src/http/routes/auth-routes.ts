/**
 * Signing in and out (SPEC H2, Z2; docs/accounts.md): login sets the `lg_session` cookie
 * (HttpOnly, SameSite=Strict, Secure over https) and answers the session's CSRF token, which a
 * browser sends back as `X-CSRF-Token` on every change. A one-time set-up link sets a password;
 * a signed-in account changes its own. Wrong credentials are LOGIN_FAILED (401), too many are
 * LOGIN_RATE_LIMITED (429 with Retry-After).
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { z } from 'zod';
import { accountSchema } from '../../accounts/account-store.ts';
import { AccountService } from '../../accounts/account-service.ts';
import { sessionIdOf } from '../../accounts/authenticator.ts';
import { PASSWORD_MAX_LENGTH } from '../../accounts/password-hash.ts';
import { clearedSessionCookie, csrfTokenOf, sessionCookie } from '../../accounts/sessions.ts';
import { LicensegateError } from '../../errors.ts';
import type { RouteModule } from '../api-deps.ts';
import { route } from '../route.ts';

/** The cookie gets `Secure` when this request came over TLS (the HTTP port serves https). */
export function overTls(req: IncomingMessage): boolean {
  return (req.socket as TLSSocket).encrypted === true;
}

const sessionAnswer = z.object({
  account: accountSchema,
  csrfToken: z.string().describe('send it as the X-CSRF-Token header with every POST, PUT, PATCH and DELETE of this session'),
  expiresAt: z.number().int().describe('the session ends at this time (ms) at the latest; earlier when idle for SESSION_IDLE_MINUTES'),
});

const whoAmI = z.object({
  account: accountSchema,
  via: z.enum(['session', 'token']),
  csrfToken: z.string().nullable().describe('the session\'s CSRF token; null for a bearer token (exempt)'),
  expiresAt: z.number().int().nullable().describe('the session\'s absolute end (ms); null for a bearer token'),
});

const password = z.string().min(1).max(PASSWORD_MAX_LENGTH * 4);

export const authRoutes: RouteModule = (deps) => {
  const service = new AccountService({ redis: deps.ctx.redis, keys: deps.ctx.keys, logger: deps.logger, ...(deps.sessionTimes ? { sessionTimes: deps.sessionTimes } : {}) });
  return [
    route({
      method: 'POST',
      path: '/auth/login',
      operationId: 'login',
      summary: 'Sign in with name and password: sets the lg_session cookie and answers the CSRF token',
      tag: 'Accounts',
      auth: 'none',
      body: z.object({ name: z.string().min(1).max(256), password }),
      response: sessionAnswer,
      handler: async ({ body, sourceAddress, req, res }) => {
        const s = await service.login(body.name, body.password, sourceAddress);
        res.setHeader('set-cookie', sessionCookie(s.sessionId, service.sessions.times.maxMs, overTls(req)));
        return { account: s.account, csrfToken: s.csrfToken, expiresAt: s.expiresAt };
      },
    }),
    route({
      method: 'POST',
      path: '/auth/logout',
      operationId: 'logout',
      summary: 'End this session (the cookie is cleared); a bearer token stays valid (revoke it with DELETE /tokens/{tokenId})',
      tag: 'Accounts',
      auth: 'account',
      response: z.object({ sessionEnded: z.boolean() }),
      handler: async ({ principal, req, res }) => {
        const sessionId = principal!.via === 'session' ? sessionIdOf(req) : undefined;
        if (sessionId) await service.sessions.destroy(sessionId);
        res.setHeader('set-cookie', clearedSessionCookie(overTls(req)));
        return { sessionEnded: sessionId !== undefined };
      },
    }),
    route({
      method: 'GET',
      path: '/auth/session',
      operationId: 'getSession',
      summary: 'Who is signed in, and the session\'s CSRF token',
      tag: 'Accounts',
      auth: 'account',
      response: whoAmI,
      handler: async ({ principal, req }) => {
        const account = await service.accounts.get(principal!.accountId);
        if (!account) throw new LicensegateError('UNAUTHENTICATED');
        const sessionId = principal!.via === 'session' ? sessionIdOf(req) : undefined;
        const session = sessionId ? await service.sessions.resolve(sessionId) : null;
        return { account, via: principal!.via, csrfToken: sessionId ? csrfTokenOf(sessionId) : null, expiresAt: session?.expiresAt ?? null };
      },
    }),
    route({
      method: 'POST',
      path: '/auth/setup',
      operationId: 'setPasswordWithLink',
      summary: 'Set a password with a one-time set-up token (from the first start, create-admin, a new account or a reset)',
      tag: 'Accounts',
      auth: 'none',
      body: z.object({ token: z.string().min(1).max(256), password }),
      response: z.object({ account: accountSchema }),
      handler: async ({ body }) => ({ account: await service.setPasswordWithToken(body.token, body.password) }),
    }),
    route({
      method: 'POST',
      path: '/auth/password',
      operationId: 'changePassword',
      summary: 'Change your own password; every session of the account ends (a session caller gets a new one)',
      tag: 'Accounts',
      auth: 'account',
      body: z.object({ current: password, new: password }),
      response: z.object({ account: accountSchema, csrfToken: z.string().nullable(), expiresAt: z.number().int().nullable() }),
      handler: async ({ principal, body, sourceAddress, req, res }) => {
        const account = await service.changePassword(principal!.accountId, body.current, body.new, sourceAddress);
        if (principal!.via !== 'session') return { account, csrfToken: null, expiresAt: null };
        const stored = await service.accounts.require(account.id);
        const s = await service.sessions.create(account.id, stored.credentialEpoch);
        res.setHeader('set-cookie', sessionCookie(s.sessionId, service.sessions.times.maxMs, overTls(req)));
        return { account, csrfToken: s.csrfToken, expiresAt: s.expiresAt };
      },
    }),
  ];
};
