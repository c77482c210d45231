/**
 * H2 Z2: admin accounts in Redis — scrypt password hashes, case-insensitive unique names under
 * concurrency from many connections, lists per tenant, deletion, and the first start's
 * technician with its one-time set-up link.
 */
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../src/accounts/account-store.ts';
import { bootstrapAdmin } from '../../src/accounts/bootstrap.ts';
import { hashPassword, verifyPassword, verifyUnknown } from '../../src/accounts/password-hash.ts';
import { SetupTokens } from '../../src/accounts/setup-tokens.ts';
import { AccountService } from '../../src/accounts/account-service.ts';
import { PERMISSIONS } from '../../src/licensing/permissions.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { connectRedis, newKeys, scanKeys } from '../helpers/redis.ts';

const redis = await connectRedis();
const opened: RedisClient[] = [redis];
afterAll(async () => {
  for (const r of opened) r.disconnect();
});
const silent = pino({ level: 'silent' });

async function median(n: number, f: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
}

describe('passwords (scrypt)', () => {
  it('H2 Z2: a password hash names scrypt, its parameters and salt; it verifies only the right password; a malformed hash never matches', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(stored).not.toContain('correct horse');
    expect(await hashPassword('correct horse battery')).not.toBe(stored); // a fresh salt each time
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
    expect(await verifyPassword('correct horse battery', 'scrypt$1048577$8$1$abc$def')).toBe(false);
    expect(await verifyPassword('correct horse battery', '')).toBe(false);
    // A lower cost in the stored form still verifies (parameters can change without a migration).
    const cheap = await hashPassword('correct horse battery', { N: 1024, r: 8, p: 1 });
    expect(cheap.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifyPassword('correct horse battery', cheap)).toBe(true);
  });

  it('H2: passwords have 12 to 256 characters (PASSWORD_POLICY)', async () => {
    await expect(hashPassword('eleven chars')).resolves.toMatch(/^scrypt/); // 12
    await expect(hashPassword('elevenchars')).rejects.toMatchObject({ code: 'PASSWORD_POLICY' });
    await expect(hashPassword('x'.repeat(257))).rejects.toMatchObject({ code: 'PASSWORD_POLICY' });
  });

  it('H2 Z2: verifying against an unknown name costs a full scrypt too (no user enumeration by timing)', async () => {
    const stored = await hashPassword('correct horse battery');
    await verifyUnknown('warm up'); // the dummy hash is made once
    const known = await median(5, () => verifyPassword('wrong password!!', stored));
    const unknown = await median(5, () => verifyUnknown('wrong password!!'));
    // Without the dummy scrypt an unknown name would answer in well under 1 % of the time.
    expect(unknown).toBeGreaterThan(known * 0.4);
    expect(unknown).toBeLessThan(known * 2.5);
  });
});

describe('account store', () => {
  it('H2: 20 concurrent creates of one name (any case, 20 connections) make exactly one account', async () => {
    const keys = newKeys('race');
    const connections = await Promise.all(Array.from({ length: 20 }, () => connectRedis()));
    opened.push(...connections);
    const results = await Promise.allSettled(
      connections.map((r, i) => new AccountStore(r, keys).create({ name: i % 2 ? 'Alice' : 'aLiCe', tenantId: 'acme', permissions: [], id: `alice-${i}` })),
    );
    const made = results.filter((r) => r.status === 'fulfilled');
    expect(made).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(Array(19).fill('ACCOUNT_EXISTS'));
    const store = new AccountStore(redis, keys);
    expect(await store.list()).toHaveLength(1);
    expect(await redis.hgetall(keys.accountNames())).toEqual({ alice: (made[0] as PromiseFulfilledResult<{ id: string }>).value.id });
  });

  it('H2: accounts list per tenant; deleting frees the name and removes its keys', async () => {
    const keys = newKeys('store');
    const store = new AccountStore(redis, keys);
    const bob = await store.create({ name: 'bob', tenantId: 'acme', permissions: [PERMISSIONS.clients] });
    await store.create({ name: 'carol', tenantId: 'default', permissions: [] });
    expect(bob).toEqual({ id: 'bob', name: 'bob', tenantId: 'acme', permissions: [PERMISSIONS.clients], createdAt: expect.any(Number), disabled: false, passwordSet: false });
    expect((await store.list('acme')).map((a) => a.name)).toEqual(['bob']);
    expect((await store.list()).map((a) => a.name)).toEqual(['bob', 'carol']);
    await expect(store.create({ name: 'BOB', tenantId: 'default', permissions: [] })).rejects.toMatchObject({ code: 'ACCOUNT_EXISTS' });
    await expect(store.create({ name: 'bad name', tenantId: 'acme', permissions: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await store.delete('bob');
    expect(await store.get('bob')).toBeNull();
    expect((await scanKeys(redis, `${keys.accountsBase()}*bob*`))).toEqual([]);
    expect((await store.create({ name: 'Bob', tenantId: 'acme', permissions: [] })).id).toBe('bob');
  });
});

describe('bootstrap', () => {
  it('H2: the first start creates technician (default tenant, every permission, no password) and a set-up link; each start while it has no password makes a new link and the old one dies; after the password is set there is none', async () => {
    const keys = newKeys('boot');
    const first = await bootstrapAdmin(redis, keys, silent, { showLink: true });
    expect(first.created).toBe(true);
    const store = new AccountStore(redis, keys);
    expect(await store.get('technician')).toMatchObject({ tenantId: 'default', permissions: [PERMISSIONS.clients, PERMISSIONS.licenses, PERMISSIONS.tenants], passwordSet: false, disabled: false });
    const setup = new SetupTokens(redis, keys);
    expect(await setup.peek(first.setupToken!)).toBe('technician');

    const second = await bootstrapAdmin(redis, keys, silent, { showLink: true });
    expect(second.created).toBe(false);
    expect(second.setupToken).not.toBe(first.setupToken);
    await expect(setup.peek(first.setupToken!)).rejects.toMatchObject({ code: 'SETUP_TOKEN_INVALID' });

    // External Redis (showLink false): no link is made (nobody would see it).
    expect((await bootstrapAdmin(redis, keys, silent, { showLink: false })).setupToken).toBeUndefined();
    expect(await setup.peek(second.setupToken!)).toBe('technician');

    const service = new AccountService({ redis, keys });
    await expect(service.setPasswordWithToken(second.setupToken!, 'too short')).rejects.toMatchObject({ code: 'PASSWORD_POLICY' });
    expect((await service.setPasswordWithToken(second.setupToken!, 'a long enough password')).passwordSet).toBe(true);
    await expect(service.setPasswordWithToken(second.setupToken!, 'another long password')).rejects.toMatchObject({ code: 'SETUP_TOKEN_INVALID' });
    expect(await bootstrapAdmin(redis, keys, silent, { showLink: true })).toEqual({ created: false, setupToken: undefined });
    expect(await store.count()).toBe(1);
    // Z2: no clear secret in Redis: the set-up token and the password appear nowhere.
    const dump = JSON.stringify(await Promise.all((await scanKeys(redis, `${keys.prefix}:*`)).map(async (k) => [k, await redis.type(k) === 'hash' ? await redis.hgetall(k) : await redis.get(k).catch(() => null)])));
    expect(dump).not.toContain(second.setupToken!);
    expect(dump).not.toContain('a long enough password');
  });
});
