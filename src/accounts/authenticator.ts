/**
 * Authenticates admin API requests (SPEC H2): `Authorization: Bearer lgt_…` (services) or the
 * `lg_session` cookie (browsers). A credential that is present but wrong, expired, revoked, or
 * whose account is disabled or gone is UNAUTHENTICATED (401); no credential at all is null (the
 * router answers 401 for routes that need one).
 *
 * Session requests with an unsafe method (POST, PUT, PATCH, DELETE) are CSRF-checked here,
 * before any handler runs: `X-CSRF-Token` must be the session's token, and an `Origin` header,
 * when the browser sends one, must name the request's own Host → else CSRF_FAILED (403).
 * Bearer requests are exempt: a browser never attaches a bearer token by itself.
 */
import type { IncomingMessage } from 'node:http';
import { LicensegateError } from '../errors.ts';
import type { Authenticator, Principal } from '../http/principal.ts';
import type { Keys } from '../store/keys.ts';
import type { RedisClient } from '../store/redis-connection.ts';
import { AccountStore, type StoredAccount } from './account-store.ts';
import { ApiTokens } from './api-tokens.ts';
import { csrfMatches, DEFAULT_SESSION_TIMES, readCookie, SESSION_COOKIE, Sessions, type SessionTimes } from './sessions.ts';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface AuthenticatorOptions {
  redis: RedisClient;
  keys: Keys;
  /** SESSION_IDLE_MINUTES / SESSION_MAX_HOURS (default 30 min / 12 h). */
  sessionTimes?: SessionTimes;
  now?: () => number;
}

/** The Authenticator plus the stores it reads, for the auth routes to share. */
export interface AccountAuthenticator extends Authenticator {
  accounts: AccountStore;
  tokens: ApiTokens;
  sessions: Sessions;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A present Origin must be this request's own origin (same Host). */
function originMatches(req: IncomingMessage): boolean {
  const origin = header(req, 'origin');
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === (header(req, 'host') ?? '');
  } catch {
    return false; // `null` (sandboxed frames, privacy redirects) and garbage
  }
}

function principalOf(account: StoredAccount, via: Principal['via']): Principal {
  return { accountId: account.id, actor: { userId: account.id, tenantId: account.tenantId, permissions: [...account.permissions] }, via };
}

export function createAuthenticator(options: AuthenticatorOptions): AccountAuthenticator {
  const now = options.now ?? Date.now;
  const accounts = new AccountStore(options.redis, options.keys, now);
  const tokens = new ApiTokens(options.redis, options.keys, now);
  const sessions = new Sessions(options.redis, options.keys, options.sessionTimes ?? DEFAULT_SESSION_TIMES, now);

  const usable = async (accountId: string): Promise<StoredAccount> => {
    const account = await accounts.getStored(accountId);
    if (!account || account.disabled) throw new LicensegateError('UNAUTHENTICATED', 'the account is disabled or gone');
    return account;
  };

  return {
    accounts,
    tokens,
    sessions,
    async authenticate(req) {
      const authorization = header(req, 'authorization');
      if (authorization !== undefined) {
        const presented = bearerTokenOf(authorization);
        if (presented === null) throw new LicensegateError('UNAUTHENTICATED', 'Authorization must be "Bearer <API token>"');
        const token = await tokens.verify(presented);
        if (!token) throw new LicensegateError('UNAUTHENTICATED', 'the API token is unknown, revoked or expired');
        return principalOf(await usable(token.accountId), 'token');
      }
      const sessionId = readCookie(header(req, 'cookie'), SESSION_COOKIE);
      if (sessionId === undefined || sessionId === '') return null;
      const session = await sessions.resolve(sessionId);
      if (!session) throw new LicensegateError('UNAUTHENTICATED', 'the session ended; sign in again');
      const account = await usable(session.accountId);
      if (account.credentialEpoch !== session.credentialEpoch) {
        await sessions.destroy(sessionId);
        throw new LicensegateError('UNAUTHENTICATED', 'the session ended (password changed or account disabled); sign in again');
      }
      if (UNSAFE.has(req.method ?? 'GET')) {
        if (!csrfMatches(sessionId, header(req, 'x-csrf-token'))) throw new LicensegateError('CSRF_FAILED');
        if (!originMatches(req)) throw new LicensegateError('CSRF_FAILED', 'the Origin header names another site');
      }
      return principalOf(account, 'session');
    },
  };
}

/** The token of an `Authorization: Bearer <token>` header value, or null when it has another form. */
export function bearerTokenOf(authorization: string): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] ?? null;
}

/** The session id a request carries (for logout), if any. */
export function sessionIdOf(req: IncomingMessage): string | undefined {
  return readCookie(header(req, 'cookie'), SESSION_COOKIE);
}
