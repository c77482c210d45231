/**
 * What people and services do with accounts (SPEC H2, Z2), shared by the HTTP routes and the
 * CLI: log in (rate-limited, same cost for unknown names), set a password with a one-time link,
 * change it, create accounts with a link, reset, API tokens. Permission checks are the callers'
 * (account-permissions.ts): the CLI's operator is trusted, an HTTP principal is not.
 *
 * Every change is logged at info with ids and names only — never a password, token or link.
 */
import type { Logger } from 'pino';
import { LicensegateError } from '../errors.ts';
import type { Permission } from '../licensing/permissions.ts';
import type { Keys } from '../store/keys.ts';
import type { RedisClient } from '../store/redis-connection.ts';
import { AccountStore, toAccount, type Account } from './account-store.ts';
import { ApiTokens } from './api-tokens.ts';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter, type LoginLimits } from './login-limiter.ts';
import { checkPasswordPolicy, hashPassword, verifyPassword, verifyUnknown } from './password-hash.ts';
import { DEFAULT_SESSION_TIMES, Sessions, type SessionTimes } from './sessions.ts';
import { SetupTokens } from './setup-tokens.ts';

export interface AccountServiceOptions {
  redis: RedisClient;
  keys: Keys;
  sessionTimes?: SessionTimes;
  loginLimits?: LoginLimits;
  logger?: Logger;
  now?: () => number;
}

export interface NewSession {
  account: Account;
  sessionId: string;
  csrfToken: string;
  expiresAt: number;
}

export class AccountService {
  readonly accounts: AccountStore;
  readonly tokens: ApiTokens;
  readonly sessions: Sessions;
  readonly setup: SetupTokens;
  readonly limiter: LoginLimiter;
  private readonly logger: Logger | undefined;

  constructor(o: AccountServiceOptions) {
    const now = o.now ?? Date.now;
    this.accounts = new AccountStore(o.redis, o.keys, now);
    this.tokens = new ApiTokens(o.redis, o.keys, now);
    this.sessions = new Sessions(o.redis, o.keys, o.sessionTimes ?? DEFAULT_SESSION_TIMES, now);
    this.setup = new SetupTokens(o.redis, o.keys, now);
    this.limiter = new LoginLimiter(o.redis, o.keys, o.loginLimits ?? DEFAULT_LOGIN_LIMITS, now);
    this.logger = o.logger;
  }

  /**
   * Name + password → a new session. Unknown names, accounts without a password and disabled
   * accounts cost one scrypt like a wrong password and answer the same LOGIN_FAILED.
   */
  async login(name: string, password: string, sourceAddress: string): Promise<NewSession> {
    await this.limiter.check(name, sourceAddress);
    const account = await this.accounts.getStoredByName(name);
    const ok = account && account.passwordSet ? await verifyPassword(password, account.passwordHash) : await verifyUnknown(password);
    if (!ok || !account || account.disabled) {
      await this.limiter.failed(name, sourceAddress);
      this.logger?.info({ source: sourceAddress, accountId: account?.id }, 'admin login failed');
      throw new LicensegateError('LOGIN_FAILED');
    }
    await this.limiter.succeeded(name);
    const session = await this.sessions.create(account.id, account.credentialEpoch);
    this.logger?.info({ accountId: account.id, source: sourceAddress }, 'admin login');
    return { account: toAccount(account), ...session };
  }

  /** Sets the password of the link's account; the link is used up, every session of the account ends. */
  async setPasswordWithToken(token: string, password: string): Promise<Account> {
    checkPasswordPolicy(password); // before using the link: a too-short password must not burn it
    const accountId = await this.setup.peek(token);
    const account = await this.accounts.getStored(accountId);
    if (!account || account.disabled) throw new LicensegateError('SETUP_TOKEN_INVALID');
    const hash = await hashPassword(password);
    await this.setup.consume(token);
    await this.accounts.setPasswordHash(accountId, hash);
    this.logger?.info({ accountId }, 'admin account password set with a set-up link');
    return (await this.accounts.get(accountId))!;
  }

  /** Changes a password knowing the current one (failures count like failed logins); ends every session. */
  async changePassword(accountId: string, current: string, next: string, sourceAddress: string): Promise<Account> {
    const account = await this.accounts.require(accountId);
    await this.limiter.check(account.name, sourceAddress);
    checkPasswordPolicy(next);
    const ok = account.passwordSet ? await verifyPassword(current, account.passwordHash) : await verifyUnknown(current);
    if (!ok) {
      await this.limiter.failed(account.name, sourceAddress);
      throw new LicensegateError('LOGIN_FAILED', 'the current password is wrong');
    }
    await this.accounts.setPasswordHash(accountId, await hashPassword(next));
    await this.setup.revokeFor(accountId);
    this.logger?.info({ accountId }, 'admin account password changed');
    return (await this.accounts.get(accountId))!;
  }

  /** A new account without a password, and its one-time set-up link's token. */
  async createAccount(input: { name: string; tenantId: string; permissions: readonly Permission[] }, by: string): Promise<{ account: Account; setupToken: string; setupExpiresAt: number }> {
    const account = await this.accounts.create(input);
    const { token, expiresAt } = await this.setup.issue(account.id);
    this.logger?.info({ accountId: account.id, name: account.name, tenantId: account.tenantId, permissions: account.permissions, by }, 'admin account created');
    return { account, setupToken: token, setupExpiresAt: expiresAt };
  }

  /** Reset: the password is cleared and every session ends; a new one-time link sets the next one. */
  async resetPassword(accountId: string, by: string): Promise<{ account: Account; setupToken: string; setupExpiresAt: number }> {
    await this.accounts.require(accountId);
    await this.accounts.setPasswordHash(accountId, '');
    const { token, expiresAt } = await this.setup.issue(accountId);
    this.logger?.info({ accountId, by }, 'admin account password reset (set-up link issued)');
    return { account: (await this.accounts.get(accountId))!, setupToken: token, setupExpiresAt: expiresAt };
  }

  /** Deletes the account with its tokens and set-up link (LAST_ADMIN for the last technician: nothing changes). */
  async deleteAccount(accountId: string, by: string): Promise<void> {
    await this.accounts.delete(accountId);
    this.logger?.info({ accountId, by }, 'admin account deleted');
  }
}
