/**
 * The `licensegate admin` commands issue 12 added: reads that were missing (`users list`,
 * `pam list`, `policy show`, `tenants show` — a PAM user's id with its random suffix can be
 * found again) and tenant rename / delete. Each is one entry of ADMIN_COMMANDS
 * (./admin-command-table.ts), which wraps these specs; kept here to keep that table small.
 */
import type { CommandSpec } from './admin-command-table.ts';
import { AdminUsageError, expectPositionals, requiredFlag, tenantId, type ParsedLine } from './admin-args.ts';
import type { PamSeatsJson } from './admin-json.ts';
import { policyView, tenantsView } from './admin-views.ts';
import { deletedView, pamSeatsView, tenantDetailView, usersView } from './tenant-views.ts';

const tenantArg = (line: ParsedLine): string => tenantId(expectPositionals(line.positionals, ['TENANT'])[0]!);

export const TENANTS_SHOW: CommandSpec<string> = {
  name: 'tenants show',
  synopsis: 'TENANT',
  summary: 'one tenant: name, Clients and PAM users, policy, enrollment limits, and its pools per license type',
  parse: tenantArg,
  async run(api, tenant) {
    const t = await api.showTenant(tenant);
    return { json: t, human: tenantDetailView(t) };
  },
};

export const TENANTS_RENAME: CommandSpec<{ tenant: string; name: string }> = {
  name: 'tenants rename',
  synopsis: 'TENANT --name NAME',
  summary: 'a new display name; the id (in agents\' config and every key) stays; refused if another tenant has NAME',
  flags: { name: { type: 'string' } },
  parse(line) {
    const name = requiredFlag(line.values, 'name', 'NAME').trim();
    if (name.length === 0 || name.length > 128) throw new AdminUsageError('--name must be 1-128 characters');
    return { tenant: tenantArg(line), name };
  },
  async run(api, p) {
    const t = await api.renameTenant(p.tenant, p.name);
    return { json: t, human: tenantsView([t]) };
  },
};

export const TENANTS_DELETE: CommandSpec<string> = {
  name: 'tenants delete',
  synopsis: 'TENANT',
  summary: 'delete an empty tenant; refused (TENANT_NOT_EMPTY) while it holds granted licenses, Clients (uninstalled ones until purged) or PAM users; never the default tenant',
  parse: tenantArg,
  async run(api, tenant) {
    const r = await api.deleteTenant(tenant);
    return { json: r, human: deletedView(r) };
  },
};

export const USERS_LIST: CommandSpec<string> = {
  name: 'users list',
  synopsis: 'TENANT',
  summary: "a tenant's PAM users: user id (for pam assign), name, whether each holds a seat (P1)",
  parse: tenantArg,
  async run(api, tenant) {
    const users = await api.listPamUsers(tenant);
    return { json: users, human: usersView(users) };
  },
};

export const PAM_LIST: CommandSpec<string> = {
  name: 'pam list',
  synopsis: 'TENANT',
  summary: "a tenant's PAM seats: granted, assigned, available, and who holds one (P1, P2)",
  parse: tenantArg,
  async run(api, tenant) {
    const [detail, users] = await Promise.all([api.showTenant(tenant), api.listPamUsers(tenant)]);
    const pool = detail.pools.find((p) => p.type === 'pam-seat') ?? { granted: 0, assigned: 0, available: 0 };
    const out: PamSeatsJson = {
      tenant,
      granted: pool.granted,
      assigned: pool.assigned,
      available: pool.available,
      seats: users.filter((u) => u.seat).map((u) => ({ userId: u.id, name: u.name })),
    };
    return { json: out, human: pamSeatsView(out) };
  },
};

export const POLICY_SHOW: CommandSpec<string> = {
  name: 'policy show',
  synopsis: 'TENANT',
  summary: "a tenant's licensing policy: reclaim after days offline (C11), free non-persistent Clients on disconnect (C12)",
  parse: tenantArg,
  async run(api, tenant) {
    const p = await api.getPolicy(tenant);
    return { json: p, human: policyView(p) };
  },
};
