/**
 * SPEC L2 H1 C6: the Client reads of the admin API carry `osType`, the license type the Client's
 * OS maps to (the `wantType` its last Hello stored from the OS table) — what an assign without a
 * type gives it, so the console's assign dialog can preselect it. Real agents with real OS facts
 * on a real `licensegate serve`; every answer is validated against the served OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { PERMISSIONS } from '../../src/licensing/permissions.ts';
import { OS, newAgent } from '../helpers/agents.ts';
import { startApiStack, type ApiStack } from '../helpers/api-stack.ts';
import { ApiValidator } from './api-validator.ts';

let stack: ApiStack;
let v: ApiValidator;
let token: string;
const agents: Agent[] = [];

beforeAll(async () => {
  stack = await startApiStack('ostype');
  token = (await stack.account('default', [PERMISSIONS.clients])).token;
  v = new ApiValidator((await stack.call(null, 'GET', '/openapi.json')).json as Record<string, unknown>);
}, 30_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.close().catch(() => {})));
  await stack?.stop();
});

const CASES = [
  { label: 'win-ws', os: OS.windows, osText: 'windows/workstation', osType: 'workstation' },
  { label: 'win-srv', os: OS.windowsServer, osText: 'windows/server', osType: 'infrastructure-server' },
  { label: 'win-rds', os: OS.terminalServer, osText: 'windows/server', osType: 'terminal-server' },
  { label: 'linux', os: OS.linux, osText: 'linux', osType: 'linux' },
  { label: 'unknown', os: OS.unknown, osText: '', osType: null },
] as const;

describe('osType on the Client reads', () => {
  it('L2 H1: the list and the detail give each Client the type its OS maps to (Windows workstation, Windows servers, Linux; null for an unknown OS)', async () => {
    const ids = new Map<string, (typeof CASES)[number]>();
    for (const c of CASES) {
      const a = newAgent(stack.gw.url, { hostname: `ostype-${c.label}`, os: c.os });
      agents.push(a);
      await a.connect(); // no serial key: every one of them stays unlicensed, its OS type stored
      ids.set(a.clientId, c);
    }
    const list = v.check('listClients', await stack.call(token, 'GET', '/tenants/default/clients?limit=100&search=ostype-'));
    expect(list.status).toBe(200);
    const items = (list.json as { items: { clientId: string; os: string; osType: string | null; license: string | null }[] }).items;
    expect(items).toHaveLength(CASES.length);
    for (const row of items) {
      const c = ids.get(row.clientId)!;
      expect(row, c.label).toMatchObject({ os: c.osText, osType: c.osType, license: null });
    }
    for (const [id, c] of ids) {
      const detail = v.check('getClient', await stack.call(token, 'GET', `/tenants/default/clients/${id}`));
      expect(detail.status).toBe(200);
      expect(detail.json, c.label).toMatchObject({ clientId: id, os: c.osText, osType: c.osType });
    }
  });

  it('L2 H1: the OpenAPI document requires osType: an endpoint license type or null, nothing else', () => {
    const row = { tenant: 'default', clientId: 'c-1', hostname: 'h', status: 'active', online: false, license: null, reason: '', lastSeen: 0, os: 'linux' };
    const answer = (json: unknown) => ({ status: 200, headers: new Headers({ 'content-type': 'application/json' }), text: JSON.stringify(json), json });
    const page = (r: object) => answer({ items: [r], nextCursor: null, total: 1 });
    expect(() => v.check('listClients', page({ ...row, osType: 'linux' }))).not.toThrow();
    expect(() => v.check('listClients', page({ ...row, osType: null }))).not.toThrow();
    expect(() => v.check('listClients', page({ ...row, osType: 'pam-seat' }))).toThrow(/does not match its schema/);
    expect(() => v.check('listClients', page(row))).toThrow(/osType/);
    const detail = { tenantId: 'default', clientId: 'c-1', hostname: 'h', status: 'active', online: false, license: null, reason: '', lastSeen: 0, os: 'linux' };
    expect(() => v.check('getClient', answer({ ...detail, osType: 'workstation' }))).not.toThrow();
    expect(() => v.check('getClient', answer(detail))).toThrow(/osType/);
  });
});
