/**
 * Live events and Client pages through a real `licensegate serve` (SPEC H3, H1, T6): the
 * process's admin API with SSE_MAX_STREAMS, real accounts, a real agent licensed on connect,
 * and a stop with streams open (they end; the process exits, it does not wait for them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../../src/licensing/permissions.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { startApiStack, type ApiStack } from '../helpers/api-stack.ts';
import { bearer } from '../helpers/accounts.ts';
import { eventually } from '../helpers/gateway.ts';
import { mintKey } from '../helpers/ledger.ts';
import { openSse, type SseStream } from '../helpers/sse-client.ts';
import { seedClients } from '../licensing/client-pages-seed.ts';

const ALL = [PERMISSIONS.clients, PERMISSIONS.licenses, PERMISSIONS.tenants];
let stack: ApiStack;
let tech: string;
let acmeAdmin: string;
const streams: SseStream[] = [];

beforeAll(async () => {
  stack = await startApiStack('sse', { SSE_MAX_STREAMS: '2' });
  tech = (await stack.account('default', ALL)).token;
  await ensureTenant(stack.redis, stack.keys, 'acme');
  acmeAdmin = (await stack.account('acme', ALL)).token;
}, 30_000);

afterAll(async () => {
  for (const s of streams) s.close();
  await stack?.stop();
});

async function follow(token: string, query = ''): Promise<SseStream> {
  const s = await openSse(`${stack.base}/api/v1/events${query}`, bearer(token));
  streams.push(s);
  return s;
}

describe('licensegate serve: events and Client pages', () => {
  it('H3 A6: a serial key activated over the API and an agent licensed on connect arrive live', async () => {
    const s = await follow(tech);
    expect(s.status).toBe(200);
    await eventually(() => s.retry !== undefined, 'the stream open');
    const activated = await stack.call(tech, 'POST', '/serial-keys', { key: mintKey({ workstation: 3 }) });
    expect(activated.status).toBe(200);
    await eventually(() => s.events.some((e) => e.event === 'key.activated'), 'key.activated', 10_000);
    const agent = newAgent(stack.gw.url, { os: OS.windows });
    await agent.connect();
    try {
      await eventually(() => s.events.some((e) => e.event === 'license.assigned' && JSON.parse(e.data).data.holder === agent.clientId), 'license.assigned for the agent', 10_000);
      // Enrollment indexed the Client for paging (one ZADD in hello-1.lua).
      expect(await stack.redis.zscore(stack.keys.clientIndex('default'), agent.clientId)).toBe('0');
    } finally {
      agent.terminate();
    }
  }, 30_000);

  it('H3: SSE_MAX_STREAMS=2: the third stream is refused with 503 and Retry-After', async () => {
    const second = await follow(tech);
    expect(second.status).toBe(200);
    const third = await follow(tech);
    expect(third.status).toBe(503);
    expect(third.headers['retry-after']).toBe('5');
    await eventually(() => third.ended, 'the refusal read');
    expect(JSON.parse(third.body)).toMatchObject({ code: 'OVERLOADED' });
  });

  it('H1 T6: Client pages over HTTP see every Client once; another tenant is 403 FORBIDDEN', async () => {
    const seeded = await seedClients(stack.redis, stack.keys, 'default', 2_500, { index: true, label: 'seed-' });
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const a = await stack.call(tech, 'GET', `/tenants/default/clients?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
      expect(a.status).toBe(200);
      const page = a.json as { items: { clientId: string }[]; nextCursor: string | null; total: number };
      ids.push(...page.items.map((r) => r.clientId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of seeded) expect(ids).toContain(c.id);
    const refused = await stack.call(acmeAdmin, 'GET', '/tenants/default/clients');
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ code: 'FORBIDDEN' });
    const sse = await follow(acmeAdmin, '?tenantId=default');
    expect(sse.status).toBe(403);
  }, 30_000);

  it('H3: stopping the process ends the open streams and the process exits', async () => {
    const open = streams.filter((s) => s.status === 200 && !s.ended);
    expect(open.length).toBe(2);
    const code = await stack.gw.stop();
    expect(code).toBe(0);
    await eventually(() => open.every((s) => s.ended), 'every stream ended');
  }, 30_000);
});
