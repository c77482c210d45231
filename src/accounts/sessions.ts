/**
 * Browser sessions (SPEC H2, Z2): the cookie `lg_session` carries 32 random bytes; Redis keeps
 * only their SHA-256 (a stolen dump opens no session), with an idle TTL refreshed on use and an
 * absolute end (SESSION_IDLE_MINUTES, SESSION_MAX_HOURS). A session records its account's
 * credential epoch: a password change or disabling bumps the epoch, which ends every older
 * session without a scan.
 *
 * CSRF: the cookie is SameSite=Strict, and every unsafe request authenticated by it must also
 * send `X-CSRF-Token`, a value derived from the session id (HMAC) that a page of another origin
 * cannot read. It is not stored anywhere: the server derives it again from the cookie.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Keys } from '../store/keys.ts';
import type { RedisClient } from '../store/redis-connection.ts';

export const SESSION_COOKIE = 'lg_session';
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export interface SessionTimes {
  /** A session unused this long ends (ms). */
  idleMs: number;
  /** A session ends this long after login whatever its use (ms). */
  maxMs: number;
}

/** SESSION_IDLE_MINUTES 30, SESSION_MAX_HOURS 12. */
export const DEFAULT_SESSION_TIMES: SessionTimes = { idleMs: 30 * 60_000, maxMs: 12 * 3_600_000 };

export interface SessionRecord {
  accountId: string;
  credentialEpoch: number;
  createdAt: number;
  /** The absolute end (ms). */
  expiresAt: number;
}

/** The session's key name part: Redis only ever holds this hash of the id. */
export function sessionHash(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex');
}

/** The session's CSRF token: derived, so it needs no storage and dies with the session. */
export function csrfTokenOf(sessionId: string): string {
  return createHmac('sha256', sessionId).update('licensegate csrf v1').digest('base64url');
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(sessionId: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const expected = Buffer.from(csrfTokenOf(sessionId));
  const got = Buffer.from(presented);
  return expected.length === got.length && timingSafeEqual(expected, got);
}

/** The value of one cookie from a Cookie header (the first occurrence). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for a new session (Secure when the HTTP port serves https). */
export function sessionCookie(sessionId: string, maxMs: number, secure: boolean): string {
  const attrs = [`${SESSION_COOKIE}=${sessionId}`, 'HttpOnly', 'SameSite=Strict', 'Path=/', `Max-Age=${Math.max(1, Math.floor(maxMs / 1000))}`];
  if (secure) attrs.push('Secure');
  return attrs.join('; ');
}

/** Set-Cookie that makes the browser forget the session. */
export function clearedSessionCookie(secure: boolean): string {
  return [`${SESSION_COOKIE}=`, 'HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=0', ...(secure ? ['Secure'] : [])].join('; ');
}

export class Sessions {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    readonly times: SessionTimes,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new session; the id is returned once, for the cookie. */
  async create(accountId: string, credentialEpoch: number): Promise<{ sessionId: string; csrfToken: string; expiresAt: number }> {
    const sessionId = randomBytes(32).toString('base64url');
    const createdAt = this.now();
    const expiresAt = createdAt + this.times.maxMs;
    const key = this.keys.session(sessionHash(sessionId));
    await this.redis
      .multi()
      .hset(key, 'accountId', accountId, 'credentialEpoch', credentialEpoch, 'createdAt', createdAt, 'expiresAt', expiresAt)
      .pexpire(key, Math.max(1, Math.min(this.times.idleMs, this.times.maxMs)))
      .exec();
    return { sessionId, csrfToken: csrfTokenOf(sessionId), expiresAt };
  }

  /** The live session of an id (its idle time restarts), or null: unknown, idle too long, or past its end. */
  async resolve(sessionId: string): Promise<SessionRecord | null> {
    if (!SESSION_ID.test(sessionId)) return null;
    const key = this.keys.session(sessionHash(sessionId));
    const h = await this.redis.hgetall(key);
    if (!h.accountId) return null;
    const record: SessionRecord = {
      accountId: h.accountId,
      credentialEpoch: Number(h.credentialEpoch ?? 0),
      createdAt: Number(h.createdAt ?? 0),
      expiresAt: Number(h.expiresAt ?? 0),
    };
    const left = record.expiresAt - this.now();
    if (left <= 0) {
      await this.redis.del(key);
      return null;
    }
    // PEXPIRE XX-like: only touches an existing key (a logout racing this leaves nothing behind).
    await this.redis.pexpire(key, Math.max(1, Math.min(this.times.idleMs, left)));
    return record;
  }

  /** Logout: the session ends at once. */
  async destroy(sessionId: string): Promise<void> {
    if (!SESSION_ID.test(sessionId)) return;
    await this.redis.del(this.keys.session(sessionHash(sessionId)));
  }
}
