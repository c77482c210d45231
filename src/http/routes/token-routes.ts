/**
 * API tokens over HTTP (SPEC H2, Z2): any account makes and revokes tokens for itself; making
 * one for another account needs the right to manage that account's tenant and every permission
 * that account holds (a token acts as its account: no way around the grant rule). The token is
 * in the creation answer only; lists show its id, name, dates — never the secret or its hash.
 */
import { z } from 'zod';
import { authorizeAccountAdmin, authorizeGrant } from '../../accounts/account-permissions.ts';
import { AccountStore } from '../../accounts/account-store.ts';
import { ApiTokens, apiTokenSchema, MAX_TOKEN_DAYS } from '../../accounts/api-tokens.ts';
import { LicensegateError } from '../../errors.ts';
import type { Actor } from '../../licensing/permissions.ts';
import type { RouteModule } from '../api-deps.ts';
import { route } from '../route.ts';
import { accountIdSchema } from './account-routes.ts';

export const tokenRoutes: RouteModule = (deps) => {
  const accounts = new AccountStore(deps.ctx.redis, deps.ctx.keys);
  const tokens = new ApiTokens(deps.ctx.redis, deps.ctx.keys);

  /** The account whose tokens the actor means; another account's only for its tenant's manager. */
  const owner = async (actor: Actor, accountId: string | undefined, what: string): Promise<string> => {
    if (accountId === undefined || accountId === actor.userId) return actor.userId;
    const account = await accounts.get(accountId);
    if (!account) throw new LicensegateError('ACCOUNT_NOT_FOUND', accountId);
    authorizeAccountAdmin(actor, account.tenantId, what);
    return account.id;
  };

  return [
    route({
      method: 'GET',
      path: '/tokens',
      operationId: 'listApiTokens',
      summary: "Your API tokens (or, for an account manager, another account's with ?accountId=)",
      tag: 'Accounts',
      auth: 'account',
      query: z.object({ accountId: accountIdSchema.optional() }),
      response: z.object({ tokens: z.array(apiTokenSchema) }),
      handler: async ({ principal, query }) => ({ tokens: await tokens.list(await owner(principal!.actor, query.accountId, 'listing API tokens')) }),
    }),
    route({
      method: 'POST',
      path: '/tokens',
      operationId: 'createApiToken',
      summary: 'Make an API token (shown in this answer only): send it as Authorization: Bearer <token>',
      tag: 'Accounts',
      auth: 'account',
      status: 201,
      body: z.object({
        name: z.string().min(1).max(100).optional(),
        expiresInDays: z.number().positive().max(MAX_TOKEN_DAYS).optional().describe('default: never expires'),
        accountId: accountIdSchema.optional().describe('default: your own account'),
      }),
      response: z.object({ token: z.string().describe('lgt_<id>_<secret>: store it now, it is not shown again'), info: apiTokenSchema }),
      handler: async ({ principal, body }) => {
        const actor = principal!.actor;
        const accountId = await owner(actor, body.accountId, 'making an API token for another account');
        if (accountId !== actor.userId) authorizeGrant(actor, (await accounts.require(accountId)).permissions, 'making an API token for another account');
        const made = await tokens.create(accountId, { ...(body.name !== undefined ? { name: body.name } : {}), ...(body.expiresInDays !== undefined ? { expiresInDays: body.expiresInDays } : {}) });
        deps.logger.info({ tokenId: made.info.id, accountId, expiresAt: made.info.expiresAt, by: actor.userId }, 'API token created');
        return made;
      },
    }),
    route({
      method: 'DELETE',
      path: '/tokens/{tokenId}',
      operationId: 'revokeApiToken',
      summary: 'Revoke an API token: the next request with it is 401',
      tag: 'Accounts',
      auth: 'account',
      params: z.object({ tokenId: z.string().regex(/^[a-f0-9]{16}$/) }),
      response: z.object({ revoked: apiTokenSchema }),
      handler: async ({ principal, params }) => {
        const actor = principal!.actor;
        const info = await tokens.get(params.tokenId);
        if (!info) throw new LicensegateError('API_TOKEN_NOT_FOUND', params.tokenId);
        await owner(actor, info.accountId, 'revoking an API token of another account');
        const revoked = await tokens.revoke(info.id);
        deps.logger.info({ tokenId: revoked.id, accountId: revoked.accountId, by: actor.userId }, 'API token revoked');
        return { revoked };
      },
    }),
  ];
};
