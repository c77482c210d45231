/**
 * SPEC A3 over the admin API: an `Idempotency-Key` becomes the admin job id, scoped per account
 * (`api.` + SHA-256(accountId, key)). A retry with the same key — one after the other, or two at
 * once — returns the first answer and has no second effect; another account's same key is
 * another job. Real `licensegate serve`, real accounts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiJobId } from '../../src/http/routes/job-call.ts';
import { ADMIN_QUEUE } from '../../src/jobs/contract.ts';
import { PERMISSIONS } from '../../src/licensing/permissions.ts';
import { startApiStack, type ApiStack } from '../helpers/api-stack.ts';
import { mintKey } from '../helpers/ledger.ts';

const ALL = [PERMISSIONS.clients, PERMISSIONS.licenses, PERMISSIONS.tenants];
let stack: ApiStack;
let one: { id: string; token: string };
let two: { id: string; token: string };
const T = 'idem-t';

beforeAll(async () => {
  stack = await startApiStack('idem');
  one = await stack.account('default', ALL);
  two = await stack.account('default', ALL);
  expect((await stack.call(one.token, 'POST', '/serial-keys', { key: mintKey({ workstation: 50 }, { multiTenant: true }) })).status).toBe(200);
  expect((await stack.call(one.token, 'POST', '/tenants', { name: 'Idem', tenantId: T })).status).toBe(201);
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

async function granted(): Promise<number> {
  const rows = (await stack.call(one.token, 'GET', '/licenses-granted')).json as { tenant: string; type: string; granted: number }[];
  return rows.find((r) => r.tenant === T && r.type === 'workstation')?.granted ?? 0;
}

async function grantAudit(): Promise<number> {
  const page = (await stack.call(one.token, 'GET', `/tenants/${T}/audit?limit=1000`)).json as { entries: { action: string }[] };
  return page.entries.length;
}

const grant = (who: { token: string }, key: string) => stack.call(who.token, 'POST', `/tenants/${T}/grants`, { type: 'workstation', count: 1 }, { 'idempotency-key': key });

describe('Idempotency-Key on the admin API', () => {
  it('A3: the same key twice (and twice at once) gives one effect, one audit entry and the same answer', async () => {
    const g0 = await granted();
    const a0 = await grantAudit();
    const first = await grant(one, 'grant-1');
    expect(first.status).toBe(200);
    const a1 = await grantAudit();
    expect(a1).toBeGreaterThan(a0);
    const again = await grant(one, 'grant-1');
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(await granted()).toBe(g0 + 1);
    expect(await grantAudit()).toBe(a1); // the retry wrote nothing
    const [x, y] = await Promise.all([grant(one, 'grant-2'), grant(one, 'grant-2')]);
    expect([x.status, y.status]).toEqual([200, 200]);
    expect(y.json).toEqual(x.json);
    expect(await granted()).toBe(g0 + 2);
    expect(await grantAudit()).toBe(a1 + (a1 - a0)); // exactly one more grant's worth of entries
    // The job id is the documented mapping.
    const job = await stack.redis.exists(`${stack.keys.queuePrefix}:${ADMIN_QUEUE}:${apiJobId(one.id, 'grant-1')}`);
    expect(job).toBe(1);
  });

  it('A3: two accounts sending the same key make two jobs', async () => {
    const g0 = await granted();
    const a = await grant(one, 'shared-key');
    const b = await grant(two, 'shared-key');
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(await granted()).toBe(g0 + 2);
    expect(apiJobId(one.id, 'shared-key')).not.toBe(apiJobId(two.id, 'shared-key'));
  });

  it('A3 Z2: POST /tenants retried with its key makes one tenant; only the first answer carries the token', async () => {
    const first = await stack.call(one.token, 'POST', '/tenants', { name: 'Once Only' }, { 'idempotency-key': 'tenant-once' });
    const again = await stack.call(one.token, 'POST', '/tenants', { name: 'Once Only' }, { 'idempotency-key': 'tenant-once' });
    expect([first.status, again.status]).toEqual([201, 201]);
    const f = first.json as { id: string; enrollmentToken: string };
    const s = again.json as { id: string; enrollmentToken: string };
    expect(s.id).toBe(f.id);
    expect(f.enrollmentToken.length).toBeGreaterThan(10);
    expect(s.enrollmentToken).toBe('');
    const list = (await stack.call(one.token, 'GET', '/tenants')).json as { name: string }[];
    expect(list.filter((t) => t.name === 'Once Only')).toHaveLength(1);
  });

  it('A3: a malformed Idempotency-Key is refused before any job (422 INVALID_REQUEST)', async () => {
    const g0 = await granted();
    const bad = await grant(one, 'not a key!');
    expect(bad.status).toBe(422);
    expect(bad.json).toMatchObject({ code: 'INVALID_REQUEST' });
    expect(await granted()).toBe(g0);
  });
});
