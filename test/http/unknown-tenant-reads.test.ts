/**
 * Reads of a tenant that does not exist over the admin API (SPEC H1, H2, T6; docs/api.md): every
 * tenant-scoped read answers 404 problem details with code UNKNOWN_TENANT — never an empty page
 * (the audit trail and its CSV export used to answer 200 with nothing) — for a tenant never
 * created and for one deleted. The scope comes first: a tenant admin asking about another tenant
 * gets 403 FORBIDDEN whether or not that tenant exists, so existence does not leak (T6).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS, TECHNICIAN } from '../../src/licensing/permissions.ts';
import { deleteTenant } from '../../src/licensing/tenant-lifecycle.ts';
import { createTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { startApiStack, type ApiStack } from '../helpers/api-stack.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';

let stack: ApiStack;
let tech: string;
let acmeAdmin: string;
beforeAll(async () => {
  stack = await startApiStack('unkt');
  const ctx = ledgerContext(stack.redis, stack.keys);
  await activatePool(ctx, { linux: 2 }, { multiTenant: true });
  await createTenant(ctx, TECHNICIAN, 'Acme', 'acme');
  await createTenant(ctx, TECHNICIAN, 'Globex', 'globex');
  await createTenant(ctx, TECHNICIAN, 'Gone', 'gone');
  await deleteTenant(ctx, TECHNICIAN, 'gone');
  tech = (await stack.account(DEFAULT_TENANT, [])).token; // reads need no permission
  acmeAdmin = (await stack.account('acme', [PERMISSIONS.clients, PERMISSIONS.licenses])).token;
}, 60_000);
afterAll(() => stack?.stop());

/** Every read below /tenants/{tenantId}. */
const READS = ['/audit', '/audit?limit=5', '/audit.csv', '/clients', '/clients/some-client', '/users', '/policy', '', '/overview'];

describe('reads of an unknown tenant', () => {
  it('H1 T6 A5: the technician reading a tenant never created or deleted gets 404 UNKNOWN_TENANT from every tenant read, audit and audit.csv included', async () => {
    const got: string[] = [];
    const want: string[] = [];
    for (const tenant of ['no-such-tenant', 'gone']) {
      for (const read of READS) {
        const a = await stack.call(tech, 'GET', `/tenants/${tenant}${read}`);
        const problem = (a.headers.get('content-type') ?? '').startsWith('application/problem+json');
        got.push(`${tenant}${read} ${a.status} ${problem ? (a.json as { code: string }).code : a.text.slice(0, 40)}`);
        want.push(`${tenant}${read} 404 UNKNOWN_TENANT`);
      }
    }
    expect(got).toEqual(want);
    // A tenant that exists with an empty trail still answers an empty page.
    const empty = await stack.call(tech, 'GET', '/tenants/globex/audit');
    expect([empty.status, empty.json]).toEqual([200, { entries: [], next: null }]);
    const csv = await stack.call(tech, 'GET', '/tenants/globex/audit.csv');
    expect([csv.status, csv.text.trim().split('\n').length, csv.text.replaceAll('"', '').split(',')[0]]).toEqual([200, 1, 'id']); // the header row alone
  });

  it('H2 T6: a tenant admin asking about another tenant gets 403 FORBIDDEN whether it exists or not (existence does not leak)', async () => {
    for (const tenant of ['no-such-tenant', 'gone', 'globex']) {
      for (const read of READS) {
        const a = await stack.call(acmeAdmin, 'GET', `/tenants/${tenant}${read}`);
        expect([a.status, (a.json as { code?: string } | undefined)?.code], `${tenant}${read}: ${a.text}`).toEqual([403, 'FORBIDDEN']);
      }
    }
    expect((await stack.call(acmeAdmin, 'GET', '/tenants/acme/audit')).status).toBe(200);
  });
});
