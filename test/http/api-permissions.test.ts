/**
 * SPEC T6, H2, A2 over the admin API, against a real `licensegate serve`: a permission matrix
 * of real accounts — the technician (default tenant, every permission), tenant B's admin
 * (client + license permissions), a read-only account (no permission) and an admin of tenant C
 * — per route family. Every 403 leaves the tenants' Redis state and audit trails unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS, type Permission } from '../../src/licensing/permissions.ts';
import { enrolledAgent } from '../helpers/agents.ts';
import { startApiStack, type ApiStack } from '../helpers/api-stack.ts';
import { mintKey } from '../helpers/ledger.ts';
import { snapshot } from '../helpers/snapshot.ts';

const { clients, licenses, tenants } = PERMISSIONS;
type Who = 'tech' | 'adminB' | 'readOnly' | 'adminC';

let stack: ApiStack;
const token = {} as Record<Who, string>;
const accountId = {} as Record<Who, string>;
const B = 'tenant-b';
const C = 'tenant-c';
let clientB: string;
let userB: string;

beforeAll(async () => {
  stack = await startApiStack('perm');
  const perms: Record<Who, [string, Permission[]]> = { tech: ['default', [clients, licenses, tenants]], adminB: [B, [clients, licenses]], readOnly: ['default', []], adminC: [C, [clients, licenses, tenants]] };
  for (const [who, [tenant, p]] of Object.entries(perms)) {
    const made = await stack.account(tenant, p);
    token[who as Who] = made.token;
    accountId[who as Who] = made.id;
  }
  const call = async (method: string, path: string, body?: unknown) => {
    const a = await stack.call(token.tech, method, path, body);
    expect(a.status, a.text).toBeLessThan(300);
    return a.json as Record<string, unknown>;
  };
  await call('POST', '/serial-keys', { key: mintKey({ workstation: 10, 'pam-seat': 5 }, { multiTenant: true }) });
  const b = await call('POST', '/tenants', { name: 'Tenant B', tenantId: B });
  await call('POST', '/tenants', { name: 'Tenant C', tenantId: C });
  await call('POST', `/tenants/${B}/grants`, { type: 'workstation', count: 3 });
  await call('POST', `/tenants/${B}/grants`, { type: 'pam-seat', count: 2 });
  // A Client of tenant B that holds a license, then goes offline (no heartbeat writes afterwards).
  const agent = await enrolledAgent(stack.gw.url, { tenantId: B, enrollmentToken: b.enrollmentToken as string });
  clientB = agent.clientId;
  agent.terminate();
  userB = ((await call('POST', `/tenants/${B}/users`, { name: 'Bea' })) as { id: string }).id;
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

/** Tenant B's, C's and the default tenant's keys with their values (audit streams included). */
async function state(): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const t of ['default', B, C]) Object.assign(out, await snapshot(stack.redis, `${stack.keys.prefix}:{t:${t}}`));
  // The retention upkeep's own progress (its index backfill marks a new tenant indexed on its timer,
  // whenever that fires) is not state a request could change: left out of the comparison.
  for (const t of ['default', B, C]) delete out[stack.keys.retention(t)];
  return out;
}

interface Row {
  family: string;
  method: string;
  path: () => string;
  body?: unknown;
  expect: Record<Who, number>;
}

const READ = { tech: 200, adminB: 200, readOnly: 200, adminC: 403 };
const SYSTEM_READ = { tech: 200, adminB: 403, readOnly: 200, adminC: 403 };
const reads: Row[] = [
  { family: 'availability', method: 'GET', path: () => '/licenses', expect: SYSTEM_READ },
  { family: 'serial keys', method: 'GET', path: () => '/serial-keys', expect: SYSTEM_READ },
  { family: 'tenant detail', method: 'GET', path: () => `/tenants/${B}`, expect: READ },
  { family: 'policy', method: 'GET', path: () => `/tenants/${B}/policy`, expect: READ },
  { family: 'Client detail', method: 'GET', path: () => `/tenants/${B}/clients/${clientB}`, expect: READ },
  { family: 'PAM users', method: 'GET', path: () => `/tenants/${B}/users`, expect: READ },
  { family: 'audit', method: 'GET', path: () => `/tenants/${B}/audit`, expect: READ },
  { family: 'audit CSV', method: 'GET', path: () => `/tenants/${B}/audit.csv`, expect: READ },
];
// Changes to tenant B, each of which the technician may make (only the refusals run here).
const NONE = { readOnly: 403, adminC: 403 };
const changes: Row[] = [
  { family: 'unassign a Client', method: 'POST', path: () => `/tenants/${B}/clients/${clientB}/unassign`, expect: { tech: 200, adminB: 200, ...NONE } },
  { family: 'uninstall a Client', method: 'POST', path: () => `/tenants/${B}/clients/${clientB}/uninstall`, expect: { tech: 200, adminB: 200, ...NONE } },
  { family: 'PAM seat', method: 'PUT', path: () => `/tenants/${B}/users/${userB}/pam-seat`, expect: { tech: 200, adminB: 200, ...NONE } },
  { family: 'create PAM user', method: 'POST', path: () => `/tenants/${B}/users`, body: { name: 'Other' }, expect: { tech: 201, adminB: 201, ...NONE } },
  { family: 'policy', method: 'PUT', path: () => `/tenants/${B}/policy`, body: { reclaimAfterDays: 3 }, expect: { tech: 200, adminB: 200, ...NONE } },
  { family: 'rotate token', method: 'POST', path: () => `/tenants/${B}/rotate-token`, body: {}, expect: { tech: 200, adminB: 200, ...NONE } },
  { family: 'grant', method: 'POST', path: () => `/tenants/${B}/grants`, body: { type: 'workstation', count: 1 }, expect: { tech: 200, adminB: 403, ...NONE } },
  { family: 'take back', method: 'POST', path: () => `/tenants/${B}/take-back`, body: { type: 'workstation', count: 1 }, expect: { tech: 200, adminB: 403, ...NONE } },
  { family: 'limits', method: 'PUT', path: () => `/tenants/${B}/limits`, body: { maxClients: 5 }, expect: { tech: 200, adminB: 403, ...NONE } },
  { family: 'rename tenant', method: 'PATCH', path: () => `/tenants/${B}`, body: { name: 'Renamed' }, expect: { tech: 200, adminB: 403, ...NONE } },
  { family: 'delete tenant', method: 'DELETE', path: () => `/tenants/${B}`, expect: { tech: 409, adminB: 403, ...NONE } },
  { family: 'create tenant', method: 'POST', path: () => '/tenants', body: { name: 'Sneaky' }, expect: { tech: 201, adminB: 403, ...NONE } },
  { family: 'activate serial key', method: 'POST', path: () => '/serial-keys', body: { key: mintKey({ linux: 1 }) }, expect: { tech: 200, adminB: 403, ...NONE } },
];

describe('admin API permission matrix (real accounts, real serve)', () => {
  it('T6: reads need only the tenant scope; system-wide reads only the default tenant', async () => {
    for (const row of reads) {
      for (const who of Object.keys(row.expect) as Who[]) {
        const a = await stack.call(token[who], row.method, row.path());
        expect(a.status, `${row.family} as ${who}: ${a.text.slice(0, 200)}`).toBe(row.expect[who]);
        if (a.status === 403) expect(a.json).toMatchObject({ code: 'FORBIDDEN' });
      }
    }
    // Lists are filtered on the server: tenant B's admin sees its own tenant only.
    const listB = await stack.call(token.adminB, 'GET', '/tenants');
    expect((listB.json as { id: string }[]).map((t) => t.id)).toEqual([B]);
    const grantedB = await stack.call(token.adminB, 'GET', '/licenses-granted');
    expect(new Set((grantedB.json as { tenant: string }[]).map((r) => r.tenant))).toEqual(new Set([B]));
  });

  it('T6 H2: a refused change (403 FORBIDDEN) changes nothing — no state, no audit entry', async () => {
    for (const row of changes) {
      for (const who of Object.keys(row.expect) as Who[]) {
        if (row.expect[who] !== 403) continue;
        const before = await state();
        const a = await stack.call(token[who], row.method, row.path(), row.body);
        expect(a.status, `${row.family} as ${who}: ${a.text.slice(0, 200)}`).toBe(403);
        expect(a.json).toMatchObject({ code: 'FORBIDDEN', status: 403 });
        expect(await state(), `${row.family} as ${who} changed state`).toEqual(before);
      }
    }
  });

  it('A2: the accounts that may make a change get its result, and the audit names the account', async () => {
    for (const row of changes) {
      const who: Who = row.expect.adminB < 300 ? 'adminB' : 'tech';
      const a = await stack.call(token[who], row.method, row.path(), row.body);
      expect(a.status, `${row.family} as ${who}: ${a.text.slice(0, 200)}`).toBe(row.expect[who]);
    }
    const audit = await stack.call(token.adminB, 'GET', `/tenants/${B}/audit?action=unassigned&clientId=${clientB}`);
    const entries = (audit.json as { entries: { actor: string; action: string }[] }).entries;
    expect(entries.length).toBeGreaterThanOrEqual(1);
    expect(entries[0]!.actor).toBe(accountId.adminB);
    expect(entries.every((e) => e.action === 'unassigned')).toBe(true);
  });
});
