/**
 * API tokens for services (SPEC H2, Z2): `lgt_<tokenId>_<secret>`, shown once. The token id
 * finds the record in one read (no scan); only the SHA-256 of the secret is stored (the secret
 * is 32 random bytes, so a fast hash is enough: nothing to brute-force), compared with
 * timingSafeEqual. A token may expire; revoking deletes the record. `lastUsedAt` is written at
 * most once a minute per token, so a busy service does not turn every request into a write.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { LicensegateError } from '../errors.ts';
import type { Keys } from '../store/keys.ts';
import type { RedisClient } from '../store/redis-connection.ts';

export const API_TOKEN_PREFIX = 'lgt_';
const TOKEN_ID = /^[a-f0-9]{16}$/;
const TOKEN_FORMAT = /^lgt_([a-f0-9]{16})_([A-Za-z0-9_-]{43})$/;

/** The token id of a well-formed token (not a proof of anything: verify() checks the secret). */
export function tokenIdOf(token: string): string | null {
  return TOKEN_FORMAT.exec(token)?.[1] ?? null;
}
/** lastUsedAt is refreshed at most this often (ms). */
export const LAST_USED_GRANULARITY_MS = 60_000;
export const MAX_TOKEN_DAYS = 3650;

/** What the API shows of a token: never its hash, its secret only once at creation. */
export const apiTokenSchema = z.object({
  id: z.string().regex(TOKEN_ID),
  accountId: z.string(),
  name: z.string(),
  createdAt: z.number().int(),
  /** null: never expires. */
  expiresAt: z.number().int().nullable(),
  lastUsedAt: z.number().int().nullable(),
});
export type ApiTokenInfo = z.infer<typeof apiTokenSchema>;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function fromHash(h: Record<string, string>): (ApiTokenInfo & { secretHash: string }) | null {
  if (!h.id || !h.accountId || !h.secretHash) return null;
  return {
    id: h.id,
    accountId: h.accountId,
    name: h.name ?? '',
    createdAt: Number(h.createdAt ?? 0),
    expiresAt: h.expiresAt ? Number(h.expiresAt) : null,
    lastUsedAt: h.lastUsedAt ? Number(h.lastUsedAt) : null,
    secretHash: h.secretHash,
  };
}

export class ApiTokens {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly now: () => number = Date.now,
  ) {}

  /** Makes a token for an account; `token` is the only time the secret exists outside the caller. */
  async create(accountId: string, options: { name?: string; expiresInDays?: number } = {}): Promise<{ token: string; info: ApiTokenInfo }> {
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const createdAt = this.now();
    const days = options.expiresInDays;
    if (days !== undefined && !(days > 0 && days <= MAX_TOKEN_DAYS)) throw new LicensegateError('INVALID_ARGUMENT', `expiresInDays is from 1 to ${MAX_TOKEN_DAYS}`);
    const expiresAt = days === undefined ? null : createdAt + Math.round(days * 86_400_000);
    const name = (options.name ?? 'api token').slice(0, 100);
    const fields: (string | number)[] = ['id', id, 'accountId', accountId, 'name', name, 'secretHash', sha256(secret).toString('hex'), 'createdAt', createdAt];
    if (expiresAt !== null) fields.push('expiresAt', expiresAt);
    const m = this.redis.multi().hset(this.keys.apiToken(id), ...fields).sadd(this.keys.accountTokens(accountId), id);
    // An expired token's record goes by itself a day after its end (it still answers "expired" until then).
    if (expiresAt !== null) m.pexpireat(this.keys.apiToken(id), expiresAt + 86_400_000);
    await m.exec();
    return { token: `${API_TOKEN_PREFIX}${id}_${secret}`, info: { id, accountId, name, createdAt, expiresAt, lastUsedAt: null } };
  }

  /** The account a presented token belongs to, or null when it is malformed, unknown, revoked or expired. */
  async verify(token: string): Promise<ApiTokenInfo | null> {
    const m = TOKEN_FORMAT.exec(token);
    if (!m) return null;
    const record = fromHash(await this.redis.hgetall(this.keys.apiToken(m[1]!)));
    if (!record) return null;
    const expected = Buffer.from(record.secretHash, 'hex');
    const presented = sha256(m[2]!);
    if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) return null;
    const now = this.now();
    if (record.expiresAt !== null && now >= record.expiresAt) return null;
    if (record.lastUsedAt === null || now - record.lastUsedAt >= LAST_USED_GRANULARITY_MS) {
      // Only while the record exists (a revoke racing this must not resurrect a bare hash).
      await this.redis.hsetnx(this.keys.apiToken(record.id), 'id', record.id).then(async (created) => {
        if (created === 1) await this.redis.del(this.keys.apiToken(record.id));
        else await this.redis.hset(this.keys.apiToken(record.id), 'lastUsedAt', now);
      });
      record.lastUsedAt = now;
    }
    const { secretHash: _s, ...info } = record;
    return info;
  }

  async get(tokenId: string): Promise<ApiTokenInfo | null> {
    if (!TOKEN_ID.test(tokenId)) return null;
    const record = fromHash(await this.redis.hgetall(this.keys.apiToken(tokenId)));
    if (!record) return null;
    const { secretHash: _s, ...info } = record;
    return info;
  }

  /** An account's tokens (expired ones included until their record expires). */
  async list(accountId: string): Promise<ApiTokenInfo[]> {
    const ids = await this.redis.smembers(this.keys.accountTokens(accountId));
    const out: ApiTokenInfo[] = [];
    const gone: string[] = [];
    for (const id of ids) {
      const t = await this.get(id);
      if (t) out.push(t);
      else gone.push(id);
    }
    if (gone.length > 0) await this.redis.srem(this.keys.accountTokens(accountId), ...gone);
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Revokes a token: its record goes, the next request with it is UNAUTHENTICATED. */
  async revoke(tokenId: string): Promise<ApiTokenInfo> {
    const t = await this.get(tokenId);
    if (!t) throw new LicensegateError('API_TOKEN_NOT_FOUND', tokenId);
    await this.redis.multi().del(this.keys.apiToken(tokenId)).srem(this.keys.accountTokens(t.accountId), tokenId).exec();
    return t;
  }
}
