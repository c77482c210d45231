/**
 * `licensegate admin` commands for admin accounts and API tokens (SPEC H2, Z2; docs/accounts.md).
 * They work on Redis directly, not through admin jobs: they change no license, and an operator
 * who reaches Redis is fully trusted (--actor does not apply). A set-up link or a token is
 * printed once, on stdout; the log (stderr, info) names accounts and ids only.
 */
import { pino, type Logger } from 'pino';
import type { AdminApi } from '../admin/admin-api.ts';
import { AccountService } from '../accounts/account-service.ts';
import { ALL_PERMISSIONS, type Account } from '../accounts/account-store.ts';
import { setupUrl } from '../accounts/setup-tokens.ts';
import { LicensegateError } from '../errors.ts';
import type { Permission } from '../licensing/permissions.ts';
import { REDACT_PATHS } from '../log.ts';
import { DEFAULT_TENANT } from '../store/keys.ts';
import { AdminUsageError, expectPositionals, requiredFlag, stringFlag, tenantId, type FlagSpec, type ParsedLine } from './admin-args.ts';
import type { AdminCommand, CommandOutput } from './admin-command-table.ts';
import { openAdminRedis } from './admin-connection.ts';
import { formatTable, iso } from './admin-table.ts';

type Work = (service: AccountService, log: Logger) => Promise<CommandOutput>;

/** An AdminCommand that ignores the job-based AdminApi and opens Redis itself. */
function accountCommand(spec: { name: string; synopsis?: string; summary: string; flags?: Record<string, FlagSpec>; parse(line: ParsedLine): Work }): AdminCommand {
  return {
    name: spec.name,
    synopsis: spec.synopsis ?? '',
    summary: spec.summary,
    flags: spec.flags ?? {},
    prepare(line) {
      const work = spec.parse(line);
      return async (_api: AdminApi) => {
        const { redis, keys } = await openAdminRedis(process.env);
        const log = pino({ level: process.env.LOG_LEVEL || 'info', redact: { paths: [...REDACT_PATHS], censor: '[redacted]' }, base: { pid: process.pid } }, pino.destination(2));
        try {
          return await work(new AccountService({ redis, keys, logger: log }), log);
        } finally {
          redis.disconnect();
        }
      };
    },
  };
}

function permissionsFlag(text: string | undefined): Permission[] {
  if (text === undefined) return [...ALL_PERMISSIONS];
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of list) {
    if (!(ALL_PERMISSIONS as string[]).includes(p)) throw new AdminUsageError(`--permissions: unknown permission "${p}" (known: ${ALL_PERMISSIONS.join(', ')})`);
  }
  return [...new Set(list)] as Permission[];
}

/** Where the HTTP port is, for the printed link: --url, else http://localhost:HTTP_PORT. */
function baseUrl(line: ParsedLine): string {
  const given = stringFlag(line.values, 'url');
  if (given !== undefined) {
    if (!/^https?:\/\/[^\s/]+/.test(given)) throw new AdminUsageError('--url must look like https://licensegate.example.com:8081');
    return given;
  }
  return `http://localhost:${process.env.HTTP_PORT || '8081'}`;
}

function linkOutput(verb: string, account: Account, token: string, expiresAt: number, base: string): CommandOutput {
  const url = setupUrl(base, token);
  return {
    json: { account, setupUrl: url, setupToken: token, setupExpiresAt: expiresAt },
    human: [
      `${verb} ${account.name} (id ${account.id}, tenant ${account.tenantId}; ${account.permissions.join(', ') || 'read-only'})`,
      `admin set-up: ${url}`,
      `valid once, until ${iso(expiresAt)}; or: curl -X POST ${base}/api/v1/auth/setup -H 'content-type: application/json' -d '{"token":"${token}","password":"…"}'`,
    ].join('\n'),
  };
}

async function accountByName(service: AccountService, name: string): Promise<Account> {
  const id = await service.accounts.idByName(name);
  const account = id === null ? null : await service.accounts.get(id);
  if (!account) throw new LicensegateError('ACCOUNT_NOT_FOUND', name);
  return account;
}

export const ACCOUNT_COMMANDS: readonly AdminCommand[] = [
  accountCommand({
    name: 'users create-admin',
    synopsis: '--name NAME [--tenant T] [--permissions a,b] [--url BASE]',
    summary: 'create an admin account (default: every permission, default tenant) and print its one-time set-up link (H2)',
    flags: { name: { type: 'string' }, tenant: { type: 'string' }, permissions: { type: 'string' }, url: { type: 'string' } },
    parse(line) {
      expectPositionals(line.positionals, []);
      const name = requiredFlag(line.values, 'name', 'NAME');
      const tenant = tenantId(stringFlag(line.values, 'tenant') ?? DEFAULT_TENANT);
      const permissions = permissionsFlag(stringFlag(line.values, 'permissions'));
      const base = baseUrl(line);
      return async (service) => {
        const made = await service.createAccount({ name, tenantId: tenant, permissions }, 'cli');
        return linkOutput('created', made.account, made.setupToken, made.setupExpiresAt, base);
      };
    },
  }),
  accountCommand({
    name: 'accounts list',
    synopsis: '[--tenant T]',
    summary: 'admin accounts: name, id, tenant, permissions, password set, disabled',
    flags: { tenant: { type: 'string' } },
    parse(line) {
      expectPositionals(line.positionals, []);
      const tenant = stringFlag(line.values, 'tenant');
      const only = tenant === undefined ? undefined : tenantId(tenant);
      return async (service) => {
        const accounts = await service.accounts.list(only);
        const rows = accounts.map((a) => [a.name, a.id, a.tenantId, a.permissions.join(',') || 'read-only', a.passwordSet, a.disabled, iso(a.createdAt)]);
        return { json: accounts, human: formatTable(['NAME', 'ID', 'TENANT', 'PERMISSIONS', 'PASSWORD', 'DISABLED', 'CREATED'], rows) };
      };
    },
  }),
  accountCommand({
    name: 'accounts reset-password',
    synopsis: 'NAME [--url BASE]',
    summary: 'clear the password, end the sessions and print a new one-time set-up link',
    flags: { url: { type: 'string' } },
    parse(line) {
      const [name] = expectPositionals(line.positionals, ['NAME']);
      const base = baseUrl(line);
      return async (service) => {
        const account = await accountByName(service, name!);
        const made = await service.resetPassword(account.id, 'cli');
        return linkOutput('reset', made.account, made.setupToken, made.setupExpiresAt, base);
      };
    },
  }),
  accountCommand({
    name: 'tokens create',
    synopsis: '--account NAME [--name X] [--expires-days N]',
    summary: 'make an API token for an account and print it once (Authorization: Bearer …)',
    flags: { account: { type: 'string' }, name: { type: 'string' }, 'expires-days': { type: 'string' } },
    parse(line) {
      expectPositionals(line.positionals, []);
      const accountName = requiredFlag(line.values, 'account', 'NAME');
      const name = stringFlag(line.values, 'name');
      const daysText = stringFlag(line.values, 'expires-days');
      const days = daysText === undefined ? undefined : Number(daysText);
      if (days !== undefined && !(Number.isFinite(days) && days > 0 && days <= 3650)) throw new AdminUsageError('--expires-days must be a number of days from 1 to 3650');
      return async (service, log) => {
        const account = await accountByName(service, accountName);
        const made = await service.tokens.create(account.id, { ...(name !== undefined ? { name } : {}), ...(days !== undefined ? { expiresInDays: days } : {}) });
        log.info({ tokenId: made.info.id, accountId: account.id, expiresAt: made.info.expiresAt, by: 'cli' }, 'API token created');
        return {
          json: made,
          human: `API token ${made.info.id} for ${account.name} (expires ${made.info.expiresAt === null ? 'never' : iso(made.info.expiresAt)}):\n${made.token}\nstore it now: it is not shown again`,
        };
      };
    },
  }),
  accountCommand({
    name: 'tokens revoke',
    synopsis: 'ID',
    summary: 'revoke an API token (its next request is 401)',
    parse(line) {
      const [id] = expectPositionals(line.positionals, ['ID']);
      return async (service, log) => {
        const revoked = await service.tokens.revoke(id!);
        log.info({ tokenId: revoked.id, accountId: revoked.accountId, by: 'cli' }, 'API token revoked');
        return { json: revoked, human: `revoked API token ${revoked.id} (${revoked.name}) of account ${revoked.accountId}` };
      };
    },
  }),
];
