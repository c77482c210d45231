/**
 * Presence over the live event stream (SPEC H3, H5, C4) through a real `licensegate serve`: the
 * scripts that change a tenant's online set bump its presence counter, and the stream's reader
 * sends one `presence` notice (no id) per poll in which it moved — coalesced in a storm, never
 * sent to a stream that filtered it out, and not moving the stream's resume point.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { PERMISSIONS } from '../../src/licensing/permissions.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { startApiStack, type ApiStack } from '../helpers/api-stack.ts';
import { bearer } from '../helpers/accounts.ts';
import { eventually } from '../helpers/gateway.ts';
import { mintKey } from '../helpers/ledger.ts';
import { openSse, type SseStream } from '../helpers/sse-client.ts';

const ALL = [PERMISSIONS.clients, PERMISSIONS.licenses, PERMISSIONS.tenants];
let stack: ApiStack;
let tech: string;
let readOnly: string;
const streams: SseStream[] = [];
const agents: Agent[] = [];

beforeAll(async () => {
  stack = await startApiStack('presence', {});
  tech = (await stack.account('default', ALL)).token;
  readOnly = (await stack.account('default', [])).token;
}, 30_000);

afterAll(async () => {
  for (const s of streams) s.close();
  for (const a of agents) a.terminate();
  await stack?.stop();
});

async function follow(token: string, query = ''): Promise<SseStream> {
  const s = await openSse(`${stack.base}/api/v1/events${query}`, bearer(token));
  streams.push(s);
  expect(s.status).toBe(200);
  await eventually(() => s.retry !== undefined, 'the stream open');
  return s;
}

interface Presence {
  tenantId: string;
  online: number;
  version: number;
  ts: number;
}

const notices = (s: SseStream): Presence[] =>
  s.events.filter((e) => e.event === 'presence').map((e) => {
    const n = JSON.parse(e.data) as { type: string; ts: number; data: Omit<Presence, 'ts'> };
    expect(n.type).toBe('presence');
    return { ...n.data, ts: n.ts };
  });

describe('presence notices on the live event stream', () => {
  it('H3 H5 C4: a stream that asks for presence opens with the online count, and a connect and a disconnect each reach a read-only account as a notice without an id; other streams get none', async () => {
    const s = await follow(readOnly, '?types=presence,license.assigned');
    const filtered = await follow(tech, '?types=license.assigned,license.unassigned');
    const all = await follow(tech);
    // The first poll after subscribing sends the current count.
    await eventually(() => notices(s).length === 1, 'the first presence notice', 10_000);
    const before = notices(s)[0]!.online;
    expect(before).toBe(await stack.redis.hlen(stack.keys.online('default')));
    const activated = await stack.call(tech, 'POST', '/serial-keys', { key: mintKey({ workstation: 2 }) });
    expect(activated.status).toBe(200);
    const agent = newAgent(stack.gw.url, { os: OS.windows });
    agents.push(agent);
    await agent.connect();
    await eventually(() => notices(s).some((n) => n.online === before + 1), 'a presence notice counting the agent online', 10_000);
    const seen = notices(s).length;
    agent.terminate();
    await eventually(() => notices(s).slice(seen).some((n) => n.online === before), 'a presence notice after the disconnect', 10_000);

    const last = notices(s).at(-1)!;
    expect(last.tenantId).toBe('default');
    expect(last.version).toBeGreaterThan(0);
    expect(s.events.filter((e) => e.event === 'presence').every((e) => e.id === undefined)).toBe(true);
    // The filtered stream saw the license change but no presence.
    await eventually(() => filtered.events.some((e) => e.event === 'license.assigned'), 'the filtered stream is live', 10_000);
    expect(filtered.events.some((e) => e.event === 'presence')).toBe(false);
    // Opt-in: the default stream (every stored type) has no notice either; every event it got has an id.
    await eventually(() => all.events.some((e) => e.event === 'license.assigned'), 'the default stream is live', 10_000);
    expect(all.events.length).toBeGreaterThan(0);
    expect(all.events.every((e) => e.event !== 'presence' && e.id !== undefined)).toBe(true);
  }, 40_000);

  it('H3 C4: 150 agents connecting at once are coalesced — at most one notice per poll — and the last notice counts them all', async () => {
    const s = await follow(tech, '?types=presence');
    await eventually(() => notices(s).length === 1, 'the first presence notice', 10_000);
    const before = notices(s)[0]!.online;
    const started = Date.now();
    const storm = Array.from({ length: 150 }, () => newAgent(stack.gw.url, { os: OS.windows }));
    agents.push(...storm);
    await Promise.all(storm.map((a) => a.connect()));
    await eventually(() => notices(s).at(-1)?.online === before + 150, 'a notice counting all 150 online', 15_000);
    const elapsed = Date.now() - started;
    const got = notices(s);
    // One poll every 250 ms, plus one for the poll in flight at each end.
    expect(got.length).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 2);
    expect(got.length).toBeLessThan(150);
    // Versions only grow.
    for (let i = 1; i < got.length; i++) expect(got[i]!.version).toBeGreaterThan(got[i - 1]!.version);
    for (const a of storm) a.terminate();
    await eventually(() => notices(s).at(-1)?.online === before, 'a notice after all 150 left', 15_000);
  }, 60_000);
});
