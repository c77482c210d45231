/**
 * Every `licensegate admin` command: its words, arguments and flags, how its line is checked
 * (before connecting), and what it asks of the AdminApi. Command names are a contract: scripts
 * depend on them.
 */
import type { AdminApi } from '../admin/admin-api.ts';
import { LicensegateError } from '../errors.ts';
import { AUDIT_PAGE_MAX, isStreamId } from '../licensing/audit.ts';
import type { EndpointLicenseType } from '../licensing/license-types.ts';
import type { ClientFilter } from '../licensing/views.ts';
import { LIMIT_MAX, type TenantLimitsChange } from '../licensing/tenant-limits.ts';
import { DEFAULT_TENANT } from '../store/keys.ts';
import {
  AdminUsageError,
  booleanFlag,
  expectPositionals,
  licenseType,
  positiveCount,
  requiredFlag,
  stringFlag,
  tenantId,
  type FlagSpec,
  type ParsedLine,
} from './admin-args.ts';
import { availabilityJson, grantedJson } from './admin-json.ts';
import * as view from './admin-views.ts';
import { createdTenantView, graceSeconds, rotationView } from './token-views.ts';
import { MAX_GRACE_MS } from '../licensing/enrollment-tokens.ts';
import { ACCOUNT_COMMANDS } from './account-commands.ts';
import { PAM_LIST, POLICY_SHOW, TENANTS_DELETE, TENANTS_RENAME, TENANTS_SHOW, USERS_LIST } from './admin-tenant-commands.ts';

export interface CommandOutput {
  /** What --json prints. */
  json: unknown;
  /** What people read. */
  human: string;
}

export interface AdminCommand {
  /** The command words, e.g. `tenants grant`. */
  name: string;
  /** Arguments and flags after the words, for the usage text. */
  synopsis: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  /** Checks the line (AdminUsageError: exit 2) and returns the work to run against the AdminApi. */
  prepare(line: ParsedLine): (api: AdminApi) => Promise<CommandOutput>;
}

export interface CommandSpec<P> {
  name: string;
  synopsis?: string;
  summary: string;
  flags?: Record<string, FlagSpec>;
  parse(line: ParsedLine): P;
  run(api: AdminApi, params: P): Promise<CommandOutput>;
}

function command<P>(spec: CommandSpec<P>): AdminCommand {
  return {
    name: spec.name,
    synopsis: spec.synopsis ?? '',
    summary: spec.summary,
    flags: spec.flags ?? {},
    prepare(line) {
      const params = spec.parse(line);
      return (api) => spec.run(api, params);
    },
  };
}

const none = (line: ParsedLine): void => {
  expectPositionals(line.positionals, []);
};

const countFlags = { type: { type: 'string' }, count: { type: 'string' } } as const satisfies Record<string, FlagSpec>;

function typeAndCount(line: ParsedLine): { tenant: string; type: ReturnType<typeof licenseType>; count: number } {
  const [tenant] = expectPositionals(line.positionals, ['TENANT']);
  return {
    tenant: tenantId(tenant!),
    type: licenseType(requiredFlag(line.values, 'type', 'TYPE')),
    count: positiveCount(requiredFlag(line.values, 'count', 'N')),
  };
}

function tenantFlag(line: ParsedLine): string {
  return tenantId(stringFlag(line.values, 'tenant') ?? DEFAULT_TENANT);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > 65_536) throw new LicensegateError('SERIAL_KEY_INVALID', 'stdin is too large to be a serial key');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** `tenants limits` flags: a whole number, or the word that clears it (default / off). */
function limitFlag(line: ParsedLine, flag: string, clear: string): number | null | undefined {
  const v = stringFlag(line.values, flag);
  if (v === undefined) return undefined;
  if (v === clear) return null;
  if (!/^\d{1,8}$/.test(v) || Number(v) < 1 || Number(v) > LIMIT_MAX) throw new AdminUsageError(`--${flag} must be a whole number 1-${LIMIT_MAX} or ${clear}, got "${v}"`);
  return Number(v);
}

function parseLimits(line: ParsedLine): { tenant: string; change: TenantLimitsChange } {
  const [tenant] = expectPositionals(line.positionals, ['TENANT']);
  const proof = stringFlag(line.values, 'require-proof');
  if (proof !== undefined && proof !== 'on' && proof !== 'off') throw new AdminUsageError(`--require-proof must be on or off, got "${proof}"`);
  const change: TenantLimitsChange = {
    enrollRate: limitFlag(line, 'enroll-rate', 'default'),
    enrollBurst: limitFlag(line, 'enroll-burst', 'default'),
    maxClients: limitFlag(line, 'max-clients', 'off'),
    requireProof: proof === undefined ? undefined : proof === 'on',
  };
  if (Object.values(change).every((v) => v === undefined)) throw new AdminUsageError('give --enroll-rate, --enroll-burst, --max-clients and/or --require-proof');
  return { tenant: tenantId(tenant!), change };
}

const FILTERS = ['online', 'offline', 'unlicensed'] as const;

export const ADMIN_COMMANDS: readonly AdminCommand[] = [
  command({
    name: 'serial activate',
    synopsis: 'KEY|-',
    summary: 'verify and activate a serial key ("-" reads it from stdin) (S1, S2)',
    parse: (line) => expectPositionals(line.positionals, ['KEY'])[0]!,
    async run(api, key) {
      const r = await api.activateSerial(key === '-' ? await readStdin() : key);
      return { json: r, human: view.activationView(r) };
    },
  }),
  command({
    name: 'serial list',
    summary: 'serial keys: id, kind, status, expiry, licenses, multi-tenant',
    parse: none,
    async run(api) {
      const r = await api.listSerials();
      return { json: r, human: view.serialListView(r) };
    },
  }),
  command({
    name: 'serial remove',
    synopsis: 'KEY_ID',
    summary: "remove a serial key; its licenses are unassigned as on expiry (S4)",
    parse: (line) => expectPositionals(line.positionals, ['KEY_ID'])[0]!,
    async run(api, keyId) {
      const r = await api.removeSerial(keyId);
      return { json: r, human: view.serialRemoveView(r) };
    },
  }),
  command({
    name: 'licenses',
    summary: 'per license type: total from active keys, granted to tenants, assigned, available (S3)',
    parse: none,
    async run(api) {
      const rows = availabilityJson(await api.availability());
      return { json: rows, human: view.availabilityView(rows) };
    },
  }),
  command({
    name: 'tenants create',
    synopsis: 'NAME [--id ID]',
    summary: 'create a tenant (multi-tenant keys only); prints its id and its enrollment token, once (T1, Z2); a NAME another tenant has is refused unless --id names the new id',
    flags: { id: { type: 'string' } },
    parse: (line) => {
      const id = stringFlag(line.values, 'id');
      return { name: expectPositionals(line.positionals, ['NAME'])[0]!, id: id === undefined ? undefined : tenantId(id) };
    },
    async run(api, { name, id }) {
      const t = await api.createTenant(name, id);
      return { json: t, human: createdTenantView(t) };
    },
  }),
  command({
    name: 'tenants rotate-token',
    synopsis: 'TENANT [--grace DURATION]',
    summary: 'a new enrollment token, printed once; the old one enrolls for DURATION more (0 default, e.g. 30m, 24h, 7d; at most 30d) (Z2)',
    flags: { grace: { type: 'string' } },
    parse(line) {
      const [tenant] = expectPositionals(line.positionals, ['TENANT']);
      const text = stringFlag(line.values, 'grace') ?? '0';
      const grace = graceSeconds(text, MAX_GRACE_MS);
      if (grace === null) throw new AdminUsageError(`--grace must be 0 or a span like 30m, 24h, 7d (at most 30d), got "${text}"`);
      return { tenant: tenantId(tenant!), grace };
    },
    async run(api, p) {
      const r = await api.rotateEnrollmentToken(p.tenant, p.grace);
      return { json: r, human: rotationView(r) };
    },
  }),
  command({
    name: 'tenants list',
    summary: 'tenants (their enrollment tokens are stored only as hashes: never shown again)',
    parse: none,
    async run(api) {
      const r = await api.listTenants();
      return { json: r, human: view.tenantsView(r) };
    },
  }),
  command(TENANTS_SHOW),
  command(TENANTS_RENAME),
  command(TENANTS_DELETE),
  command({
    name: 'tenants grant',
    synopsis: 'TENANT --type TYPE --count N',
    summary: "grant N licenses of TYPE to TENANT out of the default tenant's available pool (T1, T2)",
    flags: countFlags,
    parse: typeAndCount,
    async run(api, p) {
      const r = await api.grant(p.tenant, p.type, p.count);
      return { json: r, human: view.grantView(r) };
    },
  }),
  command({
    name: 'tenants take-back',
    synopsis: 'TENANT --type TYPE --count N [--force]',
    summary: "take N licenses back; refused below what TENANT has assigned unless --force (T4)",
    flags: { ...countFlags, force: { type: 'boolean' } },
    parse: (line) => ({ ...typeAndCount(line), force: booleanFlag(line.values, 'force') }),
    async run(api, p) {
      const r = await api.takeBack(p.tenant, p.type, p.count, p.force);
      return { json: r, human: view.takeBackView(r) };
    },
  }),
  command({
    name: 'tenants limits',
    synopsis: 'TENANT [--enroll-rate N|default] [--enroll-burst N|default] [--max-clients N|off] [--require-proof on|off]',
    summary: 'enrollment limits: new Clients per second and at once, a cap on Clients, enrollment proofs required (Z3)',
    flags: { 'enroll-rate': { type: 'string' }, 'enroll-burst': { type: 'string' }, 'max-clients': { type: 'string' }, 'require-proof': { type: 'string' } },
    parse: parseLimits,
    async run(api, p) {
      const r = await api.setLimits(p.tenant, p.change);
      return { json: r, human: view.limitsView(r) };
    },
  }),
  command({
    name: 'tenants granted',
    summary: 'per tenant and license type: granted, assigned, available (T5)',
    parse: none,
    async run(api) {
      const rows = grantedJson(await api.licensesGranted());
      return { json: rows, human: view.grantedView(rows) };
    },
  }),
  command({
    name: 'clients list',
    synopsis: '[--tenant T] [--online|--offline|--unlicensed]',
    summary: "a tenant's Clients (default: the actor's tenant)",
    flags: { tenant: { type: 'string' }, online: { type: 'boolean' }, offline: { type: 'boolean' }, unlicensed: { type: 'boolean' } },
    parse(line) {
      none(line);
      const set = FILTERS.filter((f) => booleanFlag(line.values, f));
      if (set.length > 1) throw new AdminUsageError(`${set.map((f) => `--${f}`).join(' and ')} cannot be combined`);
      return { tenant: tenantFlag(line), filter: (set[0] ?? 'all') as ClientFilter };
    },
    async run(api, p) {
      if (!(await api.listTenants()).some((t) => t.id === p.tenant)) throw new LicensegateError('UNKNOWN_TENANT', p.tenant);
      const rows = await api.listClients(p.tenant, p.filter);
      return { json: rows, human: view.clientsView(rows) };
    },
  }),
  command({
    name: 'users create',
    synopsis: 'TENANT NAME [--id USER_ID]',
    summary: 'create a PAM user; prints its user id (P1); a NAME another user of TENANT has is refused unless --id names the new id',
    flags: { id: { type: 'string' } },
    parse(line) {
      const [tenant, name] = expectPositionals(line.positionals, ['TENANT', 'NAME']);
      const id = stringFlag(line.values, 'id');
      if (id !== undefined && !/^[A-Za-z0-9._@-]{1,128}$/.test(id)) throw new AdminUsageError(`--id "${id}" is not a user id (1-128 characters of [A-Za-z0-9._@-])`);
      return { tenant: tenantId(tenant!), name: name!, id };
    },
    async run(api, p) {
      const u = await api.createUser(p.tenant, p.name, p.id);
      return { json: u, human: view.userView(u) };
    },
  }),
  command(USERS_LIST),
  command({
    name: 'pam assign',
    synopsis: 'USER_ID [--tenant T]',
    summary: 'assign a PAM seat to a PAM user (P1)',
    flags: { tenant: { type: 'string' } },
    parse: (line) => ({ user: expectPositionals(line.positionals, ['USER_ID'])[0]!, tenant: tenantFlag(line) }),
    async run(api, p) {
      const r = await api.pamAssign(p.tenant, p.user);
      return { json: r, human: view.seatView(r) };
    },
  }),
  command({
    name: 'pam unassign',
    synopsis: 'USER_ID [--tenant T]',
    summary: "unassign a PAM user's seat (P1)",
    flags: { tenant: { type: 'string' } },
    parse: (line) => ({ user: expectPositionals(line.positionals, ['USER_ID'])[0]!, tenant: tenantFlag(line) }),
    async run(api, p) {
      const r = await api.pamUnassign(p.tenant, p.user);
      return { json: r, human: view.seatView(r) };
    },
  }),
  command(PAM_LIST),
  command({
    name: 'clients assign',
    synopsis: 'CLIENT_ID [--tenant T] [--type TYPE] [--force]',
    summary: "assign a license, online or offline; TYPE defaults to the Client's OS type, --force overrides the OS check (C6, L2, L3)",
    flags: { tenant: { type: 'string' }, type: { type: 'string' }, force: { type: 'boolean' } },
    parse(line) {
      const [clientId] = expectPositionals(line.positionals, ['CLIENT_ID']);
      const type = stringFlag(line.values, 'type');
      const t = type === undefined ? undefined : licenseType(type);
      if (t === 'pam-seat') throw new AdminUsageError('--type pam-seat is for PAM users: use pam assign');
      return { tenant: tenantFlag(line), clientId: clientId!, type: t as EndpointLicenseType | undefined, force: booleanFlag(line.values, 'force') };
    },
    async run(api, p) {
      const r = await api.assignClient(p.tenant, p.clientId, { type: p.type, force: p.force });
      return { json: r, human: view.clientStateView(r) };
    },
  }),
  command({
    name: 'clients unassign',
    synopsis: 'CLIENT_ID [--tenant T]',
    summary: 'unassign its license: StopMonitoring at once, and no automatic license until an admin assigns (C7, C10)',
    flags: { tenant: { type: 'string' } },
    parse: (line) => ({ clientId: expectPositionals(line.positionals, ['CLIENT_ID'])[0]!, tenant: tenantFlag(line) }),
    async run(api, p) {
      const r = await api.unassignClient(p.tenant, p.clientId);
      return { json: r, human: view.clientStateView(r) };
    },
  }),
  command({
    name: 'clients uninstall',
    synopsis: 'CLIENT_ID [--tenant T]',
    summary: 'uninstall: license freed, credential revoked, the agent told to uninstall (C8)',
    flags: { tenant: { type: 'string' } },
    parse: (line) => ({ clientId: expectPositionals(line.positionals, ['CLIENT_ID'])[0]!, tenant: tenantFlag(line) }),
    async run(api, p) {
      const r = await api.uninstallClient(p.tenant, p.clientId);
      return { json: r, human: view.clientStateView(r) };
    },
  }),
  command(POLICY_SHOW),
  command({
    name: 'policy set',
    synopsis: 'TENANT [--reclaim-after-days N] [--free-non-persistent on|off]',
    summary: 'reclaim licenses of Clients offline N days when the pool is empty (0 = off) (C11); free non-persistent Clients on disconnect (C12)',
    flags: { 'reclaim-after-days': { type: 'string' }, 'free-non-persistent': { type: 'string' } },
    parse(line) {
      const [tenant] = expectPositionals(line.positionals, ['TENANT']);
      const days = stringFlag(line.values, 'reclaim-after-days');
      const np = stringFlag(line.values, 'free-non-persistent');
      if (days === undefined && np === undefined) throw new AdminUsageError('give --reclaim-after-days and/or --free-non-persistent');
      if (days !== undefined && !/^\d{1,4}$/.test(days)) throw new AdminUsageError(`--reclaim-after-days must be a whole number of days, got "${days}"`);
      if (np !== undefined && np !== 'on' && np !== 'off') throw new AdminUsageError(`--free-non-persistent must be on or off, got "${np}"`);
      return {
        tenant: tenantId(tenant!),
        policy: { reclaimAfterDays: days === undefined ? undefined : Number(days), freeNonPersistentOnDisconnect: np === undefined ? undefined : np === 'on' },
      };
    },
    async run(api, p) {
      const r = await api.setPolicy(p.tenant, p.policy);
      return { json: r, human: view.policyView(r) };
    },
  }),
  command({
    name: 'audit',
    synopsis: '[--tenant T] [--client C] [--since TIME] [--limit N] [--before ID]',
    summary: 'the audit trail of license changes, newest first, one page (default 50); --before ID continues below the cursor a page ends with; TIME is ISO 8601 or relative like 1h, 7d (A5)',
    flags: { tenant: { type: 'string' }, client: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' }, before: { type: 'string' } },
    parse(line) {
      none(line);
      const since = stringFlag(line.values, 'since');
      const limit = stringFlag(line.values, 'limit');
      const before = stringFlag(line.values, 'before');
      if (before !== undefined && !isStreamId(before)) throw new AdminUsageError(`--before must be an audit entry id like 1700000000000-0, got "${before}"`);
      if (limit !== undefined && positiveCount(limit) > AUDIT_PAGE_MAX) throw new AdminUsageError(`--limit must be at most ${AUDIT_PAGE_MAX}, got "${limit}"`);
      return {
        tenant: tenantFlag(line),
        query: { clientId: stringFlag(line.values, 'client'), since: since === undefined ? undefined : sinceTime(since), limit: limit === undefined ? undefined : positiveCount(limit), before },
      };
    },
    async run(api, p) {
      const page = await api.audit(p.tenant, p.query);
      return { json: page.entries, human: view.auditView(page) };
    },
  }),
  ...ACCOUNT_COMMANDS, // admin accounts and API tokens (src/cli/account-commands.ts)
];

/** `--since`: an ISO 8601 time, or a span back from now (`90s`, `15m`, `2h`, `7d`). */
function sinceTime(text: string): number {
  const rel = /^(\d{1,6})(s|m|h|d)$/.exec(text);
  if (rel) return Date.now() - Number(rel[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new AdminUsageError(`--since must be an ISO 8601 time or a span like 2h or 7d, got "${text}"`);
  return t;
}
