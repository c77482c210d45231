/**
 * Real admin accounts for tests (SPEC H2): `createTestAccount` writes an account and an API
 * token into Redis through the accounts code itself (no shortcut), so a test calls the admin
 * API as that account with `Authorization: Bearer <apiToken>`. Pair it with
 * `createAuthenticator({ redis, keys })` (src/accounts/authenticator.ts) for the ApiRouter.
 */
import { randomBytes } from 'node:crypto';
import { AccountStore, type Account } from '../../src/accounts/account-store.ts';
import { ApiTokens } from '../../src/accounts/api-tokens.ts';
import type { Permission } from '../../src/licensing/permissions.ts';
import type { Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';

export { createAuthenticator } from '../../src/accounts/authenticator.ts';
export { ALL_PERMISSIONS } from '../../src/accounts/account-store.ts';

export interface TestAccountInput {
  /** Default: a unique `user-<hex>`. */
  name?: string;
  tenantId: string;
  permissions: readonly Permission[];
}

/** A real account (no password) and a real API token for it. */
export async function createTestAccount(redis: RedisClient, keys: Keys, input: TestAccountInput): Promise<{ account: Account; apiToken: string }> {
  const name = input.name ?? `user-${randomBytes(4).toString('hex')}`;
  const account = await new AccountStore(redis, keys).create({ name, tenantId: input.tenantId, permissions: input.permissions });
  const { token } = await new ApiTokens(redis, keys).create(account.id, { name: 'test' });
  return { account, apiToken: token };
}

/** Headers for a bearer request. */
export function bearer(apiToken: string): Record<string, string> {
  return { authorization: `Bearer ${apiToken}` };
}
