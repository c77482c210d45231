/**
 * SPEC H1: every operation of the admin API, called against a real `licensegate serve`, answers
 * what its OpenAPI document says — each success and each problem is validated with Ajv against
 * the document the server itself serves. The last test fails when the document holds an
 * operation no test here called (a new route needs its calls in OPERATION_CALLS below).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../../src/licensing/permissions.ts';
import { enrolledAgent } from '../helpers/agents.ts';
import { startApiStack, type ApiAnswer, type ApiStack } from '../helpers/api-stack.ts';
import { mintKey } from '../helpers/ledger.ts';
import { ApiValidator } from './api-validator.ts';

const ALL = [PERMISSIONS.clients, PERMISSIONS.licenses, PERMISSIONS.tenants];

let stack: ApiStack;
let v: ApiValidator;
let tech: string;
let readOnly: string;

beforeAll(async () => {
  stack = await startApiStack('oapi');
  tech = (await stack.account('default', ALL)).token;
  readOnly = (await stack.account('default', [])).token;
  const doc = await stack.call(null, 'GET', '/openapi.json');
  expect(doc.status).toBe(200);
  v = new ApiValidator(doc.json as Record<string, unknown>);
  v.check('getOpenApiDocument', doc);
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

/** Calls and validates; asserts the status. */
async function op(operationId: string, status: number, token: string | null, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer> {
  const a = await stack.call(token, method, path, body, headers);
  expect(a.status, `${operationId}: ${a.text.slice(0, 300)}`).toBe(status);
  return v.check(operationId, a);
}

describe('admin API answers match its OpenAPI document', () => {
  it('H1: serial keys and availability (success and problems validate)', async () => {
    const a = await op('activateSerialKey', 200, tech, 'POST', '/serial-keys', { key: mintKey({ workstation: 5, 'pam-seat': 3 }, { multiTenant: true }) });
    expect((a.json as { status: string }).status).toBe('ACTIVATED');
    await op('activateSerialKey', 422, tech, 'POST', '/serial-keys', { key: 'not-a-serial-key' });
    await op('activateSerialKey', 422, tech, 'POST', '/serial-keys', { nope: 1 });
    const spare = await op('activateSerialKey', 200, tech, 'POST', '/serial-keys', { key: mintKey({ linux: 1 }) });
    const list = await op('listSerialKeys', 200, tech, 'GET', '/serial-keys');
    expect((list.json as unknown[]).length).toBe(2);
    expect(list.text).not.toContain('"key"'); // the key's own text stays on the server
    await op('listSerialKeys', 401, null, 'GET', '/serial-keys');
    await op('removeSerialKey', 200, tech, 'DELETE', `/serial-keys/${(spare.json as { keyId: string }).keyId}`);
    await op('removeSerialKey', 404, tech, 'DELETE', '/serial-keys/K-missing');
    const avail = await op('getAvailability', 200, readOnly, 'GET', '/licenses');
    expect((avail.json as { type: string; total: number }[]).find((r) => r.type === 'workstation')!.total).toBe(5);
    await op('getAvailability', 401, 'lgt_bogus_token', 'GET', '/licenses');
  });

  it('H1: tenants, grants, policy, limits, token rotation, Licenses Granted', async () => {
    const created = await op('createTenant', 201, tech, 'POST', '/tenants', { name: 'Acme Corp' });
    const acme = created.json as { id: string; enrollmentToken: string };
    expect(acme.enrollmentToken.length).toBeGreaterThan(10);
    await op('createTenant', 409, tech, 'POST', '/tenants', { name: 'Acme Corp' });
    await op('createTenant', 403, readOnly, 'POST', '/tenants', { name: 'Nope' });
    await op('listTenants', 200, tech, 'GET', '/tenants');
    await op('listTenants', 401, null, 'GET', '/tenants');
    await op('getTenant', 200, tech, 'GET', `/tenants/${acme.id}`);
    await op('getTenant', 404, tech, 'GET', '/tenants/no-such-tenant');
    await op('renameTenant', 200, tech, 'PATCH', `/tenants/${acme.id}`, { name: 'Acme Inc' });
    await op('renameTenant', 403, readOnly, 'PATCH', `/tenants/${acme.id}`, { name: 'Acme X' });
    await op('grantLicenses', 200, tech, 'POST', `/tenants/${acme.id}/grants`, { type: 'workstation', count: 2 });
    await op('grantLicenses', 409, tech, 'POST', `/tenants/${acme.id}/grants`, { type: 'workstation', count: 100 });
    await op('takeBackLicenses', 200, tech, 'POST', `/tenants/${acme.id}/take-back`, { type: 'workstation', count: 1 });
    await op('takeBackLicenses', 422, tech, 'POST', `/tenants/${acme.id}/take-back`, { type: 'no-such-type', count: 1 });
    const granted = await op('listLicensesGranted', 200, tech, 'GET', '/licenses-granted');
    expect(granted.json).toContainEqual(expect.objectContaining({ tenant: acme.id, type: 'workstation', granted: 1 }));
    await op('listLicensesGranted', 401, null, 'GET', '/licenses-granted');
    const rotated = await op('rotateEnrollmentToken', 200, tech, 'POST', `/tenants/${acme.id}/rotate-token`, { graceSeconds: 60 });
    expect((rotated.json as { enrollmentToken: string }).enrollmentToken).not.toBe(acme.enrollmentToken);
    await op('rotateEnrollmentToken', 403, readOnly, 'POST', `/tenants/${acme.id}/rotate-token`, {});
    await op('setPolicy', 200, tech, 'PUT', `/tenants/${acme.id}/policy`, { reclaimAfterDays: 7 });
    await op('setPolicy', 422, tech, 'PUT', `/tenants/${acme.id}/policy`, { reclaimAfterDays: -1 });
    const policy = await op('getPolicy', 200, readOnly, 'GET', `/tenants/${acme.id}/policy`);
    expect(policy.json).toEqual({ tenantId: acme.id, reclaimAfterDays: 7, freeNonPersistentOnDisconnect: false });
    await op('getPolicy', 404, tech, 'GET', '/tenants/no-such-tenant/policy');
    const limits = await op('setLimits', 200, tech, 'PUT', `/tenants/${acme.id}/limits`, { maxClients: 10, enrollRate: null });
    expect(limits.json).toMatchObject({ maxClients: 10, enrollRate: null });
    await op('setLimits', 422, tech, 'PUT', `/tenants/${acme.id}/limits`, { maxClients: 'many' });
    const empty = (await op('createTenant', 201, tech, 'POST', '/tenants', { name: 'Short lived', tenantId: 'short-lived' })).json as { id: string };
    await op('deleteTenant', 200, tech, 'DELETE', `/tenants/${empty.id}`);
    await op('deleteTenant', 409, tech, 'DELETE', `/tenants/${acme.id}`); // holds a license: TENANT_NOT_EMPTY
  });

  it('H1: a Client: detail, unassign, assign, uninstall', async () => {
    const agent = await enrolledAgent(stack.gw.url);
    const id = agent.clientId;
    try {
      const detail = await op('getClient', 200, readOnly, 'GET', `/tenants/default/clients/${id}`);
      expect(detail.json).toMatchObject({ clientId: id, license: 'workstation', online: true, os: expect.stringContaining('windows') });
      await op('getClient', 404, tech, 'GET', '/tenants/default/clients/no-such-client');
      await op('unassignClient', 200, tech, 'POST', `/tenants/default/clients/${id}/unassign`);
      await op('unassignClient', 404, tech, 'POST', '/tenants/default/clients/no-such-client/unassign');
      const assigned = await op('assignClient', 200, tech, 'POST', `/tenants/default/clients/${id}/assign`); // no body: {}
      expect((assigned.json as { license: string }).license).toBe('workstation');
      await op('assignClient', 422, tech, 'POST', `/tenants/default/clients/${id}/assign`, { type: 'pam-seat' });
      await op('uninstallClient', 200, tech, 'POST', `/tenants/default/clients/${id}/uninstall`);
      await op('uninstallClient', 403, readOnly, 'POST', `/tenants/default/clients/${id}/uninstall`);
    } finally {
      agent.terminate();
    }
  });

  it('H1 H5: the tenant overview (the console\'s Overview page)', async () => {
    const o = await op('getTenantOverview', 200, readOnly, 'GET', '/tenants/default/overview');
    const overview = o.json as { clients: { total: number }; enrollments: { licensedAtFirstConnect: number; buckets: number[] }; keys: { nearest: { level: string } | null } };
    expect(overview.clients.total).toBeGreaterThanOrEqual(1); // the Client of the test above
    expect(overview.enrollments.licensedAtFirstConnect).toBeGreaterThanOrEqual(1);
    expect(overview.enrollments.buckets).toHaveLength(12);
    expect(overview.keys.nearest).toMatchObject({ level: 'ok' }); // a key of one year
    await op('getTenantOverview', 404, tech, 'GET', '/tenants/no-such-tenant/overview');
    await op('getTenantOverview', 401, null, 'GET', '/tenants/default/overview');
  });

  it('H1: PAM users and seats', async () => {
    const user = (await op('createPamUser', 201, tech, 'POST', '/tenants/default/users', { name: 'Ada Admin' })).json as { id: string };
    await op('createPamUser', 409, tech, 'POST', '/tenants/default/users', { name: 'Ada Admin' });
    const users = await op('listPamUsers', 200, readOnly, 'GET', '/tenants/default/users');
    expect(users.json).toContainEqual(expect.objectContaining({ id: user.id, name: 'Ada Admin', seat: false }));
    await op('listPamUsers', 404, tech, 'GET', '/tenants/no-such-tenant/users');
    expect((await op('assignPamSeat', 200, tech, 'PUT', `/tenants/default/users/${user.id}/pam-seat`)).json).toMatchObject({ seat: true, changed: true });
    await op('assignPamSeat', 404, tech, 'PUT', '/tenants/default/users/no-such-user/pam-seat');
    expect((await op('unassignPamSeat', 200, tech, 'DELETE', `/tenants/default/users/${user.id}/pam-seat`)).json).toMatchObject({ seat: false, changed: true });
    await op('unassignPamSeat', 403, readOnly, 'DELETE', `/tenants/default/users/${user.id}/pam-seat`);
  });

  it('H1: audit pages and the CSV export', async () => {
    const page = await op('readAudit', 200, readOnly, 'GET', '/tenants/default/audit?limit=2');
    const { entries, next } = page.json as { entries: { id: string }[]; next: string | null };
    expect(entries).toHaveLength(2);
    expect(next).toBe(entries[1]!.id);
    await op('readAudit', 422, tech, 'GET', '/tenants/default/audit?before=yesterday');
    const csv = await op('exportAuditCsv', 200, readOnly, 'GET', '/tenants/default/audit.csv?limit=3');
    expect(csv.text.split('\r\n')[0]).toBe('"id","ts","tenant","holder","holderKind","type","action","before","after","reason","actor","cause"');
    expect(csv.text.split('\r\n').filter(Boolean)).toHaveLength(4);
    await op('exportAuditCsv', 422, tech, 'GET', '/tenants/default/audit.csv?limit=0');
  });

  it('H1 H2: accounts, sessions (cookie + CSRF) and API tokens', async () => {
    const made = (await op('createAccount', 201, tech, 'POST', '/accounts', { name: 'oapi-user', permissions: [PERMISSIONS.clients] })).json as { account: { id: string }; setupToken: string };
    await op('createAccount', 403, readOnly, 'POST', '/accounts', { name: 'nope', permissions: [] });
    await op('setPasswordWithLink', 422, null, 'POST', '/auth/setup', { token: made.setupToken, password: 'short' });
    await op('setPasswordWithLink', 200, null, 'POST', '/auth/setup', { token: made.setupToken, password: 'a long enough password' });
    await op('setPasswordWithLink', 401, null, 'POST', '/auth/setup', { token: made.setupToken, password: 'a long enough password' });
    await op('login', 401, null, 'POST', '/auth/login', { name: 'oapi-user', password: 'wrong password!' });
    const login = await op('login', 200, null, 'POST', '/auth/login', { name: 'oapi-user', password: 'a long enough password' });
    const session = { cookie: /^(lg_session=[^;]+)/.exec(login.headers.get('set-cookie')!)![1]!, 'x-csrf-token': (login.json as { csrfToken: string }).csrfToken };
    await op('getSession', 200, null, 'GET', '/auth/session', undefined, session);
    await op('getSession', 401, 'lgt_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'GET', '/auth/session');
    await op('changePassword', 401, null, 'POST', '/auth/password', { current: 'wrong password!', new: 'another long password' }, session);
    const changed = await op('changePassword', 200, null, 'POST', '/auth/password', { current: 'a long enough password', new: 'another long password' }, session);
    const renewed = { cookie: /^(lg_session=[^;]+)/.exec(changed.headers.get('set-cookie')!)![1]!, 'x-csrf-token': (changed.json as { csrfToken: string }).csrfToken };
    await op('listAccounts', 200, readOnly, 'GET', '/accounts');
    await op('listAccounts', 401, null, 'GET', '/accounts');
    await op('getAccount', 200, tech, 'GET', `/accounts/${made.account.id}`);
    await op('getAccount', 404, tech, 'GET', '/accounts/no-such-account');
    await op('updateAccount', 200, tech, 'PATCH', `/accounts/${made.account.id}`, { permissions: [PERMISSIONS.clients, PERMISSIONS.licenses] });
    await op('updateAccount', 403, readOnly, 'PATCH', `/accounts/${made.account.id}`, { disabled: true });
    const token = (await op('createApiToken', 201, null, 'POST', '/tokens', { name: 'svc', expiresInDays: 30 }, renewed)).json as { info: { id: string } };
    await op('createApiToken', 422, tech, 'POST', '/tokens', { expiresInDays: -1 });
    await op('listApiTokens', 200, null, 'GET', '/tokens', undefined, renewed);
    await op('listApiTokens', 401, null, 'GET', '/tokens', undefined, { cookie: 'lg_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    await op('revokeApiToken', 200, null, 'DELETE', `/tokens/${token.info.id}`, undefined, renewed);
    await op('revokeApiToken', 404, tech, 'DELETE', `/tokens/${token.info.id}`);
    await op('logout', 403, null, 'POST', '/auth/logout', undefined, { cookie: renewed.cookie }); // CSRF_FAILED
    await op('logout', 200, null, 'POST', '/auth/logout', undefined, renewed);
    await op('resetAccountPassword', 201, tech, 'POST', `/accounts/${made.account.id}/reset-password`);
    await op('resetAccountPassword', 404, tech, 'POST', '/accounts/no-such-account/reset-password');
    await op('deleteAccount', 200, tech, 'DELETE', `/accounts/${made.account.id}`);
    await op('deleteAccount', 404, tech, 'DELETE', `/accounts/${made.account.id}`);
  });

  it('H1 H3: Client pages and the event stream', async () => {
    const page = await op('listClients', 200, readOnly, 'GET', '/tenants/default/clients?limit=1&filter=all');
    expect(page.json).toMatchObject({ items: [expect.objectContaining({ tenant: 'default' })], total: expect.any(Number) });
    await op('listClients', 422, tech, 'GET', '/tenants/default/clients?limit=0');
    await op('listClients', 404, tech, 'GET', '/tenants/no-such-tenant/clients');
    // A stream answers for ever: its head and first bytes (the retry hint) are what is checked.
    const ac = new AbortController();
    const res = await fetch(`${stack.base}/api/v1/events`, { headers: { authorization: `Bearer ${readOnly}` }, signal: ac.signal });
    const first = await res.body!.getReader().read();
    ac.abort();
    v.check('followEvents', { status: res.status, headers: res.headers, text: new TextDecoder().decode(first.value), json: undefined });
    expect(res.status).toBe(200);
    await op('followEvents', 404, tech, 'GET', '/events?tenantId=no-such-tenant');
    await op('followEvents', 422, tech, 'GET', '/events?types=no.such.type');
  });

  it('H1: unknown routes and methods are problems too', async () => {
    const missing = await stack.call(tech, 'GET', '/no-such-route');
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ code: 'ROUTE_NOT_FOUND', status: 404 });
    const method = await stack.call(tech, 'PUT', '/licenses');
    expect(method.json).toMatchObject({ code: 'METHOD_NOT_ALLOWED', status: 405 });
    v.check('getAvailability', method); // any operation's `default` is the Problem schema
    // The validator bites: an answer outside the schema is refused.
    const fake = { status: 200, headers: new Headers({ 'content-type': 'application/json' }), text: '{}', json: {} };
    expect(() => v.check('listTenants', fake)).toThrow(/does not match its schema/);
  });

  it('H1: every operation in the document was called, with a success and (where one exists) a problem', () => {
    const missing: string[] = [];
    for (const [id, entry] of v.operations) {
      const seen = [...(v.seen.get(id) ?? [])];
      const ok = seen.some((s) => s < 300);
      const problem = seen.some((s) => s >= 400) || entry.op.responses.default === undefined || id === 'getOpenApiDocument';
      if (!ok || !problem) missing.push(`${id} (seen ${seen.join(',') || 'nothing'})`);
    }
    expect(missing).toEqual([]);
    expect(v.operations.size).toBeGreaterThanOrEqual(27);
  });
});
