/**
 * Admin accounts over HTTP (SPEC H2, T6; docs/accounts.md). Reading needs the tenant scope only
 * (own tenant, or every tenant for default-tenant accounts); changing needs the Tenant
 * Management permission in that scope, nobody grants a permission they lack, and the default
 * tenant keeps at least one enabled technician (checked atomically with the write by AccountStore). A new account or a
 * reset answers a one-time set-up link; no answer ever holds a password or token hash.
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { authorizeAccountAdmin, authorizeGrant } from '../../accounts/account-permissions.ts';
import { AccountService } from '../../accounts/account-service.ts';
import { ACCOUNT_ID, ACCOUNT_NAME, accountSchema, permissionSchema, type Account } from '../../accounts/account-store.ts';
import { setupUrl } from '../../accounts/setup-tokens.ts';
import { LicensegateError } from '../../errors.ts';
import { authorizeTenant, type Actor } from '../../licensing/permissions.ts';
import { DEFAULT_TENANT } from '../../store/keys.ts';
import type { RouteModule } from '../api-deps.ts';
import { route } from '../route.ts';
import { overTls } from './auth-routes.ts';
import { tenantIdSchema } from './schemas.ts';

export const accountIdSchema = z.string().regex(ACCOUNT_ID).describe('account id');
const accountParams = z.object({ accountId: accountIdSchema });

const setupAnswer = z.object({
  account: accountSchema,
  setupUrl: z.string().describe('one-time page that sets the password (valid 24 h; a newer link replaces it)'),
  setupToken: z.string().describe('the same token, for POST /auth/setup'),
  setupExpiresAt: z.number().int(),
});

/** Where the set-up page is, as the caller reached this server (its own Host). */
export function baseUrlOf(req: IncomingMessage): string {
  return `${overTls(req) ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
}

export const accountRoutes: RouteModule = (deps) => {
  const service = new AccountService({ redis: deps.ctx.redis, keys: deps.ctx.keys, logger: deps.logger, ...(deps.sessionTimes ? { sessionTimes: deps.sessionTimes } : {}) });

  /** The account, if the actor may see it (T6: another tenant's account is FORBIDDEN, not hidden). */
  const visible = async (actor: Actor, accountId: string): Promise<Account> => {
    const account = await service.accounts.get(accountId);
    if (!account) throw new LicensegateError('ACCOUNT_NOT_FOUND', accountId);
    authorizeTenant(actor, account.tenantId, 'reading an account');
    return account;
  };

  return [
    route({
      method: 'GET',
      path: '/accounts',
      operationId: 'listAccounts',
      summary: "Accounts of your tenant (a default-tenant account: every tenant's, or one with ?tenantId=)",
      tag: 'Accounts',
      auth: 'account',
      query: z.object({ tenantId: tenantIdSchema.optional() }),
      response: z.object({ accounts: z.array(accountSchema) }),
      handler: async ({ principal, query }) => {
        const actor = principal!.actor;
        const tenantId = query.tenantId ?? (actor.tenantId === DEFAULT_TENANT ? undefined : actor.tenantId);
        if (tenantId !== undefined) authorizeTenant(actor, tenantId, 'listing accounts');
        return { accounts: await service.accounts.list(tenantId) };
      },
    }),
    route({
      method: 'POST',
      path: '/accounts',
      operationId: 'createAccount',
      summary: 'Create an account (no password yet): answers its one-time set-up link',
      tag: 'Accounts',
      auth: 'account',
      status: 201,
      body: z.object({
        name: z.string().regex(ACCOUNT_NAME).describe('login name, unique case-insensitively'),
        tenantId: tenantIdSchema.optional().describe('default: your own tenant'),
        permissions: z.array(permissionSchema).max(3),
      }),
      response: setupAnswer,
      handler: async ({ principal, body, req }) => {
        const actor = principal!.actor;
        const tenantId = body.tenantId ?? actor.tenantId;
        authorizeAccountAdmin(actor, tenantId, 'creating an account');
        authorizeGrant(actor, body.permissions, 'creating an account');
        const made = await service.createAccount({ name: body.name, tenantId, permissions: [...new Set(body.permissions)] }, actor.userId);
        return { account: made.account, setupUrl: setupUrl(baseUrlOf(req), made.setupToken), setupToken: made.setupToken, setupExpiresAt: made.setupExpiresAt };
      },
    }),
    route({
      method: 'GET',
      path: '/accounts/{accountId}',
      operationId: 'getAccount',
      summary: 'One account',
      tag: 'Accounts',
      auth: 'account',
      params: accountParams,
      response: z.object({ account: accountSchema }),
      handler: async ({ principal, params }) => ({ account: await visible(principal!.actor, params.accountId) }),
    }),
    route({
      method: 'PATCH',
      path: '/accounts/{accountId}',
      operationId: 'updateAccount',
      summary: 'Change permissions or disable/enable (disabling ends its sessions and refuses its tokens)',
      tag: 'Accounts',
      auth: 'account',
      params: accountParams,
      body: z.object({ permissions: z.array(permissionSchema).max(3).optional(), disabled: z.boolean().optional() }),
      response: z.object({ account: accountSchema }),
      handler: async ({ principal, params, body }) => {
        const actor = principal!.actor;
        const before = await visible(actor, params.accountId);
        authorizeAccountAdmin(actor, before.tenantId, 'changing an account');
        if (body.permissions) authorizeGrant(actor, body.permissions.filter((p) => !before.permissions.includes(p)), 'changing an account');
        // LAST_ADMIN is checked by the store in the same atomic step as the write (change-account-7.lua).
        const account = await service.accounts.update(before.id, { ...(body.permissions ? { permissions: [...new Set(body.permissions)] } : {}), ...(body.disabled !== undefined ? { disabled: body.disabled } : {}) });
        deps.logger.info({ accountId: account.id, permissions: account.permissions, disabled: account.disabled, by: actor.userId }, 'admin account changed');
        return { account };
      },
    }),
    route({
      method: 'DELETE',
      path: '/accounts/{accountId}',
      operationId: 'deleteAccount',
      summary: 'Delete an account, its API tokens and sessions',
      tag: 'Accounts',
      auth: 'account',
      params: accountParams,
      response: z.object({ deleted: accountSchema }),
      handler: async ({ principal, params }) => {
        const actor = principal!.actor;
        const before = await visible(actor, params.accountId);
        authorizeAccountAdmin(actor, before.tenantId, 'deleting an account');
        await service.deleteAccount(before.id, actor.userId);
        return { deleted: before };
      },
    }),
    route({
      method: 'POST',
      path: '/accounts/{accountId}/reset-password',
      operationId: 'resetAccountPassword',
      summary: 'Clear the password, end its sessions and answer a new one-time set-up link',
      tag: 'Accounts',
      auth: 'account',
      status: 201,
      params: accountParams,
      response: setupAnswer,
      handler: async ({ principal, params, req }) => {
        const actor = principal!.actor;
        const before = await visible(actor, params.accountId);
        authorizeAccountAdmin(actor, before.tenantId, 'resetting a password');
        // A reset hands over the account: only to someone who holds what it holds.
        authorizeGrant(actor, before.permissions, 'resetting a password');
        const made = await service.resetPassword(before.id, actor.userId);
        return { account: made.account, setupUrl: setupUrl(baseUrlOf(req), made.setupToken), setupToken: made.setupToken, setupExpiresAt: made.setupExpiresAt };
      },
    }),
  ];
};
