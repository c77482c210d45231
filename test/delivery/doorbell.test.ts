/**
 * The doorbell (SPEC C7): Lua scripts publish the commands they append to the node that holds
 * each online Client; the node sends them without reading the log when they continue what the
 * connection was sent, and reads the log after a gap. A lost doorbell is repaired at the next
 * heartbeat.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseNodeMessage } from '../../src/delivery/node-message.ts';
import { runJsonScript } from '../../src/licensing/ledger-context.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

/** Runs an admin script while the Client's online entry names a node nobody listens to: the doorbell is lost. */
async function withLostDoorbell(g: TestGateway, clientId: string, run: () => Promise<unknown>): Promise<void> {
  const online = g.keys.online(DEFAULT_TENANT);
  const real = await g.redis.hget(online, clientId);
  expect(real).toMatch(/:\d+$/);
  await g.redis.hset(online, clientId, 'no-such-node:1');
  try {
    await run();
  } finally {
    await g.redis.hset(online, clientId, real!);
  }
}

const unassign = (g: TestGateway, clientId: string) => runJsonScript(g.ctx, 'adminUnassign', DEFAULT_TENANT, [clientId, Date.now(), 'test', 'test']);
const assign = (g: TestGateway, clientId: string) => runJsonScript(g.ctx, 'adminAssign', DEFAULT_TENANT, [clientId, '', '0', Date.now(), 'test', 'test']);

describe('doorbell', () => {
  it('C7: a script that unassigns rings the node itself; the agent gets StopMonitoring with no other call', async () => {
    gw = await startTestGateway({ pool: { linux: 1 }, gateway: { heartbeatIntervalMs: 60_000 } });
    const a = newAgent(gw.url, { os: OS.linux });
    await a.connect();
    await a.waitFor(() => a.monitoring);
    await unassign(gw, a.clientId);
    await a.waitFor(() => !a.monitoring, 3000);
    expect(a.commands.map((c) => [c.seq, c.kind])).toEqual([[1, 'stop']]);
    await a.close();
  });

  it('C7: after a lost doorbell, the next one shows a gap and the node reads the log: every command, in order', async () => {
    // Heartbeats a minute apart: no heartbeat-driven repair within this test.
    gw = await startTestGateway({ pool: { linux: 1 }, gateway: { heartbeatIntervalMs: 60_000 } });
    const g = gw;
    const a = newAgent(g.url, { os: OS.linux });
    await a.connect();
    await a.waitFor(() => a.monitoring);
    await withLostDoorbell(g, a.clientId, () => unassign(g, a.clientId));
    await assign(g, a.clientId);
    await a.waitFor(() => a.commands.length === 2, 3000);
    expect(a.commands.map((c) => [c.seq, c.kind, c.duplicate])).toEqual([[1, 'stop', false], [2, 'start', false]]);
    expect(a.monitoring).toBe(true);
    await a.close();
  });

  it('C7: a lost doorbell is repaired at the next heartbeat', async () => {
    gw = await startTestGateway({ pool: { linux: 1 }, gateway: { heartbeatIntervalMs: 300, lastSeenFlushMs: 100 } });
    const g = gw;
    const a = newAgent(g.url, { os: OS.linux });
    await a.connect();
    await a.waitFor(() => a.monitoring);
    await withLostDoorbell(g, a.clientId, () => unassign(g, a.clientId));
    await a.waitFor(() => !a.monitoring, 3000);
    await a.close();
  });

  it('C7 R2: a doorbell with malformed commands still rings (the node reads the log); garbage is ignored', () => {
    const ok = parseNodeMessage(JSON.stringify({ t: 'cmd', tenant: 't1', clients: ['c1'], cmds: { c1: [[4, 'stop', 'UNASSIGNED_BY_ADMIN'], [5, 'start', 'linux']] } }));
    expect(ok).toEqual({
      t: 'cmd',
      tenant: 't1',
      clients: ['c1'],
      cmds: new Map([['c1', [{ seq: 4, kind: 'stop', reason: 'UNASSIGNED_BY_ADMIN' }, { seq: 5, kind: 'start', licenseType: 'linux' }]]]),
    });
    for (const cmds of [{ c1: [[0, 'stop', 'x']] }, { c1: [[1, 'start', 'no-such-type']] }, { c1: [[1, 'explode', '']] }, { c1: 'stop' }, ['c1']]) {
      expect(parseNodeMessage(JSON.stringify({ t: 'cmd', tenant: 't1', clients: ['c1'], cmds }))).toEqual({ t: 'cmd', tenant: 't1', clients: ['c1'] });
    }
    expect(parseNodeMessage('not json')).toBeNull();
    expect(parseNodeMessage(JSON.stringify({ t: 'cmd', tenant: 't1' }))).toBeNull();
  });
});
