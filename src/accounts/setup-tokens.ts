/**
 * One-time set-up links (SPEC H2, Z2): a new account, a reset, or the first start's technician
 * gets a random token that sets the password once. Only its SHA-256 is stored, with a TTL
 * (24 h by default); an account has at most one live link — issuing a new one kills the old.
 * Using it is atomic (DEL decides the one winner), so a link works exactly once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { LicensegateError } from '../errors.ts';
import type { Keys } from '../store/keys.ts';
import type { RedisClient } from '../store/redis-connection.ts';

export const SETUP_TOKEN_TTL_MS = 24 * 3_600_000;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The page that sets a password with a token (src/accounts/setup-page.ts); the token rides in the fragment, never sent to a server log. */
export function setupUrl(httpUrl: string, token: string): string {
  return `${httpUrl.replace(/\/+$/, '')}/setup#token=${token}`;
}

export class SetupTokens {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new link for the account; any older one stops working. */
  async issue(accountId: string, ttlMs = SETUP_TOKEN_TTL_MS): Promise<{ token: string; expiresAt: number }> {
    const token = randomBytes(32).toString('base64url');
    const hash = hashOf(token);
    const expiresAt = this.now() + ttlMs;
    const old = await this.redis.get(this.keys.accountSetupToken(accountId));
    const m = this.redis.multi();
    if (old) m.del(this.keys.setupToken(old));
    m.hset(this.keys.setupToken(hash), 'accountId', accountId, 'expiresAt', expiresAt).pexpire(this.keys.setupToken(hash), ttlMs);
    m.set(this.keys.accountSetupToken(accountId), hash, 'PX', ttlMs);
    await m.exec();
    return { token, expiresAt };
  }

  /** The account a live token belongs to, without using it (the password is checked first). */
  async peek(token: string): Promise<string> {
    if (!TOKEN.test(token)) throw new LicensegateError('SETUP_TOKEN_INVALID');
    const accountId = await this.redis.hget(this.keys.setupToken(hashOf(token)), 'accountId');
    if (!accountId) throw new LicensegateError('SETUP_TOKEN_INVALID');
    return accountId;
  }

  /** Uses the token: exactly one caller gets the account id, every other SETUP_TOKEN_INVALID. */
  async consume(token: string): Promise<string> {
    const accountId = await this.peek(token);
    const hash = hashOf(token);
    if ((await this.redis.del(this.keys.setupToken(hash))) !== 1) throw new LicensegateError('SETUP_TOKEN_INVALID');
    // Forget the account's pointer when it still names this token (no race: a newer link has another hash).
    if ((await this.redis.get(this.keys.accountSetupToken(accountId))) === hash) await this.redis.del(this.keys.accountSetupToken(accountId));
    return accountId;
  }

  /** Kills the account's live link, if any (deletion, a password set another way). */
  async revokeFor(accountId: string): Promise<void> {
    const old = await this.redis.get(this.keys.accountSetupToken(accountId));
    const m = this.redis.multi().del(this.keys.accountSetupToken(accountId));
    if (old) m.del(this.keys.setupToken(old));
    await m.exec();
  }
}
