/**
 * Re-checks the credentials of long-lived requests (SPEC H2, H3: the event streams of
 * `GET /api/v1/events`), which authenticate once and then stay open for hours: a stream must
 * end when the session or API token it was opened with stops being valid, or its account is
 * disabled, gone or changed.
 *
 * Cheap by construction: every check of every credential asked for in the same turn of the
 * event loop goes out as ONE pipeline (two HMGETs per distinct credential, no write), so 256
 * streams of one token cost two commands, not 256 reads. Two moments ask:
 * - a timer every `intervalMs` (5 s), only while something is watched, re-checks every watched
 *   credential — that ends idle streams;
 * - `fresh(credential, since)` before events are delivered: the answer comes from a check that
 *   was sent after `since` (the moment those events were read), so an event written after a
 *   revocation is never delivered on the revoked credential's stream. Idle streams never ask.
 *
 * The check reads like the authenticator (authenticator.ts) but never refreshes a session's
 * idle time: an open stream is not activity, so a session left alone still idles out.
 * A Redis error answers nothing (the caller retries): a blip does not end streams.
 */
import { performance } from 'node:perf_hooks';
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../http/principal.ts';
import type { Actor } from '../licensing/permissions.ts';
import type { Keys } from '../store/keys.ts';
import type { RedisClient } from '../store/redis-connection.ts';
import { decodePermissions } from './account-store.ts';
import { tokenIdOf } from './api-tokens.ts';
import { bearerTokenOf, sessionIdOf } from './authenticator.ts';
import { sessionHash } from './sessions.ts';

/** What a stream was opened with: the token's id or the session's hash (never the secret), and its account. */
export type StreamCredential = { via: 'token'; tokenId: string; accountId: string } | { via: 'session'; sessionHash: string; accountId: string };

export type CredentialVerdict = { ok: true; actor: Actor } | { ok: false; detail: string };

/** The credential a request authenticated with (null: none the built-in authenticator knows). */
export function streamCredentialOf(req: IncomingMessage, principal: Principal): StreamCredential | null {
  if (principal.via === 'token') {
    const presented = bearerTokenOf(String(req.headers.authorization ?? ''));
    const tokenId = presented === null ? null : tokenIdOf(presented);
    return tokenId ? { via: 'token', tokenId, accountId: principal.accountId } : null;
  }
  const sessionId = sessionIdOf(req);
  return sessionId ? { via: 'session', sessionHash: sessionHash(sessionId), accountId: principal.accountId } : null;
}

function keyOf(c: StreamCredential): string {
  return c.via === 'token' ? `t:${c.tokenId}` : `s:${c.sessionHash}`;
}

type Listener = (verdict: CredentialVerdict) => void;

interface Watched {
  credential: StreamCredential;
  listeners: Set<Listener>;
  /** performance.now() when the last answered check was sent (-Infinity: never). */
  sentAt: number;
  verdict: CredentialVerdict | null;
}

interface Pending {
  credential: StreamCredential;
  waiters: { resolve: (v: CredentialVerdict) => void; reject: (e: unknown) => void }[];
}

export interface CredentialMonitorOptions {
  redis: RedisClient;
  keys: Keys;
  /** The periodic re-check of every watched credential (default 5 s). */
  intervalMs?: number;
  now?: () => number;
}

export class CredentialMonitor {
  private readonly watched = new Map<string, Watched>();
  private pending: Map<string, Pending> | null = null;
  private timer: NodeJS.Timeout | null = null;
  readonly intervalMs: number;
  private readonly now: () => number;
  /** Pipelines sent and credentials checked so far (tests, docs). */
  readonly stats = { pipelines: 0, checks: 0 };

  constructor(private readonly o: CredentialMonitorOptions) {
    this.intervalMs = o.intervalMs ?? 5_000;
    this.now = o.now ?? Date.now;
  }

  /** Calls `listener` with every verdict on the credential until the returned function is called. */
  watch(credential: StreamCredential, listener: Listener): () => void {
    const key = keyOf(credential);
    let w = this.watched.get(key);
    if (!w) {
      w = { credential, listeners: new Set(), sentAt: -Infinity, verdict: null };
      this.watched.set(key, w);
    }
    w.listeners.add(listener);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
    const entry = w;
    return () => {
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0 && this.watched.get(key) === entry) this.watched.delete(key);
      if (this.watched.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  /** A verdict from a check sent after `since` (a performance.now() value); rejects on a Redis error. */
  fresh(credential: StreamCredential, since: number): Promise<CredentialVerdict> {
    const w = this.watched.get(keyOf(credential));
    if (w?.verdict && w.sentAt > since) return Promise.resolve(w.verdict);
    return this.request(credential);
  }

  private tick(): void {
    for (const w of this.watched.values()) this.request(w.credential).catch(() => undefined);
  }

  /** Joins the batch of this turn of the event loop (one pipeline for all). */
  private request(credential: StreamCredential): Promise<CredentialVerdict> {
    if (!this.pending) {
      this.pending = new Map();
      setImmediate(() => void this.flush());
    }
    const key = keyOf(credential);
    let p = this.pending.get(key);
    if (!p) {
      p = { credential, waiters: [] };
      this.pending.set(key, p);
    }
    const entry = p;
    return new Promise((resolve, reject) => entry.waiters.push({ resolve, reject }));
  }

  private async flush(): Promise<void> {
    const batch = [...(this.pending?.values() ?? [])];
    this.pending = null;
    if (batch.length === 0) return;
    const k = this.o.keys;
    const pipeline = this.o.redis.pipeline();
    for (const { credential: c } of batch) {
      if (c.via === 'token') pipeline.hmget(k.apiToken(c.tokenId), 'accountId', 'expiresAt');
      else pipeline.hmget(k.session(c.sessionHash), 'accountId', 'credentialEpoch', 'expiresAt');
      pipeline.hmget(k.account(c.accountId), 'id', 'tenantId', 'permissions', 'disabled', 'credentialEpoch');
    }
    const sentAt = performance.now();
    this.stats.pipelines++;
    this.stats.checks += batch.length;
    let replies: [Error | null, unknown][];
    try {
      replies = (await pipeline.exec()) ?? [];
    } catch (err) {
      for (const p of batch) for (const w of p.waiters) w.reject(err);
      return;
    }
    const now = this.now();
    batch.forEach((p, i) => {
      const [credErr, cred] = replies[2 * i] ?? [new Error('no reply'), null];
      const [accErr, acc] = replies[2 * i + 1] ?? [new Error('no reply'), null];
      if (credErr || accErr) {
        for (const w of p.waiters) w.reject(credErr ?? accErr);
        return;
      }
      const verdict = judge(p.credential, cred as (string | null)[], acc as (string | null)[], now);
      for (const w of p.waiters) w.resolve(verdict);
      const watched = this.watched.get(keyOf(p.credential));
      if (watched && sentAt > watched.sentAt) {
        watched.sentAt = sentAt;
        watched.verdict = verdict;
        for (const l of [...watched.listeners]) l(verdict);
      }
    });
  }
}

/** The same rules as the authenticator, on the fields read. */
function judge(c: StreamCredential, cred: (string | null)[], acc: (string | null)[], now: number): CredentialVerdict {
  const [accountId, tenantId, permissions, disabled, epoch] = acc;
  if (c.via === 'token') {
    const [owner, expiresAt] = cred;
    if (owner !== c.accountId) return { ok: false, detail: 'the API token was revoked' };
    if (expiresAt && now >= Number(expiresAt)) return { ok: false, detail: 'the API token expired' };
  } else {
    const [owner, sessionEpoch, expiresAt] = cred;
    if (owner !== c.accountId) return { ok: false, detail: 'the session ended (signed out or idle too long)' };
    if (now >= Number(expiresAt ?? 0)) return { ok: false, detail: 'the session reached its maximum age' };
    if (accountId && Number(sessionEpoch ?? 0) !== Number(epoch ?? 0)) return { ok: false, detail: 'the session ended (password changed or account disabled)' };
  }
  if (accountId !== c.accountId) return { ok: false, detail: 'the account was deleted' };
  if (disabled === '1') return { ok: false, detail: 'the account is disabled' };
  return { ok: true, actor: { userId: c.accountId, tenantId: tenantId ?? '', permissions: decodePermissions(permissions ?? undefined) } };
}
