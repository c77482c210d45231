/**
 * H2: the test helper other suites use makes a real account and token that the authenticator
 * accepts (bearer), and refuses once revoked or disabled.
 */
import type { IncomingMessage } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../src/accounts/account-store.ts';
import { ApiTokens } from '../../src/accounts/api-tokens.ts';
import { PERMISSIONS } from '../../src/licensing/permissions.ts';
import { createAuthenticator, createTestAccount } from '../helpers/accounts.ts';
import { connectRedis, newKeys } from '../helpers/redis.ts';

const redis = await connectRedis();
const keys = newKeys('acct');
afterAll(() => redis.quit());

function req(headers: Record<string, string>, method = 'GET'): IncomingMessage {
  return { headers, method } as unknown as IncomingMessage;
}

describe('test helper createTestAccount', () => {
  it('H2: a test account and its bearer token authenticate as that account; no credential is null; a wrong one is UNAUTHENTICATED', async () => {
    const { account, apiToken } = await createTestAccount(redis, keys, { tenantId: 'acme', permissions: [PERMISSIONS.clients] });
    const auth = createAuthenticator({ redis, keys });
    const p = await auth.authenticate(req({ authorization: `Bearer ${apiToken}` }), '127.0.0.1');
    expect(p).toEqual({ accountId: account.id, via: 'token', actor: { userId: account.id, tenantId: 'acme', permissions: [PERMISSIONS.clients] } });
    expect(await auth.authenticate(req({}), '127.0.0.1')).toBeNull();
    await expect(auth.authenticate(req({ authorization: `Bearer ${apiToken.slice(0, -2)}xx` }), '127.0.0.1')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(auth.authenticate(req({ authorization: 'Basic abc' }), '127.0.0.1')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('H2 Z2: a revoked token and a disabled account are UNAUTHENTICATED; the token is stored only as a hash', async () => {
    const { account, apiToken } = await createTestAccount(redis, keys, { tenantId: 'default', permissions: [] });
    const auth = createAuthenticator({ redis, keys });
    const tokenId = apiToken.split('_')[1]!;
    const stored = await redis.hgetall(keys.apiToken(tokenId));
    expect(JSON.stringify(stored)).not.toContain(apiToken.slice('lgt_'.length + 17));
    await new AccountStore(redis, keys).update(account.id, { disabled: true });
    await expect(auth.authenticate(req({ authorization: `Bearer ${apiToken}` }), '::1')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await new AccountStore(redis, keys).update(account.id, { disabled: false });
    expect((await auth.authenticate(req({ authorization: `Bearer ${apiToken}` }), '::1'))?.accountId).toBe(account.id);
    await new ApiTokens(redis, keys).revoke(tokenId);
    await expect(auth.authenticate(req({ authorization: `Bearer ${apiToken}` }), '::1')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
