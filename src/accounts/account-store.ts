/**
 * Admin accounts in Redis (SPEC H2): every key under the hash tag `{accounts}` (Keys.account*),
 * so the create script (create-account-4.lua) checks the case-insensitive name index and writes
 * the account atomically, on one Redis or a Cluster, from any number of processes.
 *
 * An account belongs to one tenant and holds A2's permissions; it authenticates with a password
 * (scrypt, password-hash.ts), sessions (sessions.ts) or API tokens (api-tokens.ts). The stored
 * `credentialEpoch` grows when the password changes or the account is disabled: sessions from
 * an older epoch are dead (sessions.ts), so ending them needs no scan.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { LicensegateError } from '../errors.ts';
import { PERMISSIONS, type Permission } from '../licensing/permissions.ts';
import { DEFAULT_TENANT, type Keys } from '../store/keys.ts';
import type { RedisClient } from '../store/redis-connection.ts';
import { runScript } from '../store/scripts.ts';

export const ACCOUNT_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Login names: what people type; no control characters, no surrounding spaces. */
export const ACCOUNT_NAME = /^[A-Za-z0-9._@+-]{1,64}$/;
export const TENANT_ID = /^[A-Za-z0-9._-]{1,64}$/;
export const ALL_PERMISSIONS: Permission[] = [PERMISSIONS.clients, PERMISSIONS.licenses, PERMISSIONS.tenants];

export const permissionSchema = z.enum([PERMISSIONS.clients, PERMISSIONS.licenses, PERMISSIONS.tenants]);

/** What the API and the CLI show of an account: never its password hash. */
export const accountSchema = z.object({
  id: z.string().regex(ACCOUNT_ID),
  name: z.string().regex(ACCOUNT_NAME),
  tenantId: z.string().regex(TENANT_ID),
  permissions: z.array(permissionSchema),
  createdAt: z.number().int(),
  disabled: z.boolean(),
  passwordSet: z.boolean(),
});
export type Account = z.infer<typeof accountSchema>;

/** An account with what only the accounts code reads: the password hash and the credential epoch. */
export interface StoredAccount extends Account {
  passwordHash: string;
  credentialEpoch: number;
}

export interface NewAccount {
  name: string;
  tenantId: string;
  permissions: readonly Permission[];
  /** Default: derived from the name (lower-cased, unsafe characters dropped) plus a random suffix if needed. */
  id?: string;
}

/** Login names are unique case-insensitively: this is the index key. */
export function nameKey(name: string): string {
  return name.toLowerCase();
}

function encodePermissions(p: readonly Permission[]): string {
  return ALL_PERMISSIONS.filter((x) => p.includes(x)).join(',');
}

export function decodePermissions(s: string | undefined): Permission[] {
  if (!s) return [];
  return s.split(',').filter((x): x is Permission => (ALL_PERMISSIONS as string[]).includes(x));
}

export function toAccount(a: StoredAccount): Account {
  const { passwordHash: _h, credentialEpoch: _e, ...rest } = a;
  return rest;
}

function fromHash(h: Record<string, string>): StoredAccount | null {
  if (!h.id) return null;
  return {
    id: h.id,
    name: h.name ?? h.id,
    tenantId: h.tenantId ?? '',
    permissions: decodePermissions(h.permissions),
    createdAt: Number(h.createdAt ?? 0),
    disabled: h.disabled === '1',
    passwordSet: (h.passwordHash ?? '') !== '',
    passwordHash: h.passwordHash ?? '',
    credentialEpoch: Number(h.credentialEpoch ?? 0),
  };
}

export class AccountStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly now: () => number = Date.now,
  ) {}

  /** Creates an account without a password; ACCOUNT_EXISTS when the name (any case) is taken. */
  async create(input: NewAccount): Promise<Account> {
    if (!ACCOUNT_NAME.test(input.name)) throw new LicensegateError('INVALID_ARGUMENT', 'a login name has 1-64 characters of [A-Za-z0-9._@+-]');
    if (!TENANT_ID.test(input.tenantId)) throw new LicensegateError('INVALID_ARGUMENT', 'tenant ids have 1-64 characters of [A-Za-z0-9._-]');
    let id = input.id ?? input.name.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
    if (!ACCOUNT_ID.test(id)) throw new LicensegateError('INVALID_ARGUMENT', 'account ids have 1-64 characters of [A-Za-z0-9._-]');
    for (let attempt = 0; ; attempt++) {
      const k = this.keys;
      const reply = (await runScript(this.redis, 'createAccount', [k.accountNames(), k.account(id), k.accountIds(), k.tenantAccounts(input.tenantId)], [
        id, input.name, nameKey(input.name), input.tenantId, encodePermissions(input.permissions), this.now(),
      ])) as string[];
      if (reply[0] === 'OK') {
        const created = await this.get(id);
        if (!created) throw new LicensegateError('INTERNAL_ERROR', `account ${id} vanished after its creation`);
        return created;
      }
      // The name is taken: refuse. Only the id is taken (another name mapped to it): derive another id.
      const byName = await this.redis.hget(k.accountNames(), nameKey(input.name));
      if (byName !== null || input.id !== undefined || attempt >= 5) {
        throw new LicensegateError('ACCOUNT_EXISTS', input.name);
      }
      id = `${id.slice(0, 55)}-${randomBytes(4).toString('hex')}`;
    }
  }

  async getStored(id: string): Promise<StoredAccount | null> {
    if (!ACCOUNT_ID.test(id)) return null;
    return fromHash(await this.redis.hgetall(this.keys.account(id)));
  }

  async get(id: string): Promise<Account | null> {
    const a = await this.getStored(id);
    return a && toAccount(a);
  }

  async require(id: string): Promise<StoredAccount> {
    const a = await this.getStored(id);
    if (!a) throw new LicensegateError('ACCOUNT_NOT_FOUND', id);
    return a;
  }

  async idByName(name: string): Promise<string | null> {
    if (name.length > 64) return null;
    return this.redis.hget(this.keys.accountNames(), nameKey(name));
  }

  async getStoredByName(name: string): Promise<StoredAccount | null> {
    const id = await this.idByName(name);
    return id === null ? null : this.getStored(id);
  }

  /** Every account, or a tenant's (sorted by name). Admin accounts are few: one round trip per account set. */
  async list(tenantId?: string): Promise<Account[]> {
    const ids = await this.redis.smembers(tenantId === undefined ? this.keys.accountIds() : this.keys.tenantAccounts(tenantId));
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.account(id));
    const replies = (await pipeline.exec()) ?? [];
    const out: Account[] = [];
    for (const [err, h] of replies) {
      const a = err ? null : fromHash(h as Record<string, string>);
      if (a) out.push(toAccount(a));
    }
    return out.sort((x, y) => x.name.localeCompare(y.name));
  }

  async count(): Promise<number> {
    return this.redis.scard(this.keys.accountIds());
  }

  /**
   * Changes permissions and/or the disabled flag; disabling ends every session (epoch + 1).
   * LAST_ADMIN when the change would leave the default tenant without an enabled technician:
   * checked and written in one script (change-account-7.lua), so concurrent changes of the last
   * two technicians cannot both pass.
   */
  async update(id: string, change: { permissions?: readonly Permission[]; disabled?: boolean }): Promise<Account> {
    await this.change(id, [
      'update',
      change.permissions === undefined ? '-' : encodePermissions(change.permissions),
      change.disabled === undefined ? '-' : change.disabled ? '1' : '0',
    ]);
    return (await this.get(id))!;
  }

  /** Stores a new password hash and ends every session of the account (epoch + 1). */
  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.redis.multi().hset(this.keys.account(id), 'passwordHash', passwordHash).hincrby(this.keys.account(id), 'credentialEpoch', 1).exec();
  }

  /**
   * Deletes the account, its name, its API tokens and its set-up link; its sessions die with it
   * (their account is gone). LAST_ADMIN (atomically, like update) for the last technician.
   */
  async delete(id: string): Promise<void> {
    await this.change(id, ['delete', '-', '-']);
  }

  /** Runs change-account-7.lua; the tenant is read first (an account never changes tenant). */
  private async change(id: string, args: [string, string, string]): Promise<void> {
    const a = await this.require(id);
    const k = this.keys;
    const reply = (await runScript(
      this.redis,
      'changeAccount',
      [k.account(id), k.tenantAccounts(DEFAULT_TENANT), k.accountNames(), k.accountIds(), k.tenantAccounts(a.tenantId), k.accountTokens(id), k.accountSetupToken(id)],
      [k.account(''), k.apiToken(''), k.setupToken(''), DEFAULT_TENANT, encodePermissions(ALL_PERMISSIONS), ...args],
    )) as string[];
    if (reply[0] === 'ACCOUNT_NOT_FOUND') throw new LicensegateError('ACCOUNT_NOT_FOUND', id);
    if (reply[0] === 'LAST_ADMIN') throw new LicensegateError('LAST_ADMIN', reply[1] ?? id);
    if (reply[0] !== 'OK') throw new LicensegateError('INTERNAL_ERROR', `change-account answered ${String(reply[0])}`);
  }
}
