/**
 * Command sequence numbers never go backwards or repeat, even after Redis loses its last
 * writes (SPEC F4, C7). The loss is simulated here the way a Redis restarted from an older AOF
 * would show it: the Client's hash and command log written back to an earlier checkpoint.
 * test/delivery/redis-restart.test.ts does the same with a real kill -9 and restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { assignClient, unassignClient } from '../../src/licensing/client-admin.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

interface Checkpoint {
  hash: Record<string, string>;
  log: [string, string[]][];
}

const unassign = (g: TestGateway, id: string) => unassignClient(g.ctx, TECHNICIAN, DEFAULT_TENANT, id);
const assign = (g: TestGateway, id: string) => assignClient(g.ctx, TECHNICIAN, DEFAULT_TENANT, id);
const stored = async (g: TestGateway, id: string, field: string) => Number(await g.redis.hget(g.keys.client(DEFAULT_TENANT, id), field));

async function checkpoint(g: TestGateway, id: string): Promise<Checkpoint> {
  return {
    hash: await g.redis.hgetall(g.keys.client(DEFAULT_TENANT, id)),
    log: (await g.redis.xrange(g.keys.commands(DEFAULT_TENANT, id), '-', '+')) as [string, string[]][],
  };
}

/**
 * Writes the Client's seq, acked and incarnation back as they were at the checkpoint and trims
 * its command log to the checkpoint's entries: what Redis would hold after losing every write
 * since. `olderProcess`: the restarted Redis is another process than the one that wrote the
 * checkpoint (a real restart always is; see redis-restart.test.ts).
 */
async function loseWritesSince(g: TestGateway, id: string, cp: Checkpoint, olderProcess: boolean): Promise<void> {
  const key = g.keys.client(DEFAULT_TENANT, id);
  const fields: Record<string, string> = { seq: cp.hash.seq!, acked: cp.hash.acked! };
  if (cp.hash.runId !== undefined) fields.runId = olderProcess ? 'f'.repeat(40) : cp.hash.runId;
  await g.redis.hset(key, fields);
  const log = g.keys.commands(DEFAULT_TENANT, id);
  await g.redis.del(log);
  for (const [entryId, f] of cp.log) await g.redis.xadd(log, entryId, ...f);
}

/** A licensed agent that was unassigned and assigned twice: commands 1-4 applied and acked. */
async function agentWithHistory(g: TestGateway, keep: (cp: Checkpoint) => void, autoAck = true): Promise<Agent> {
  const a = newAgent(g.url, { os: OS.linux, autoAck });
  await a.connect();
  await a.waitFor(() => a.monitoring);
  for (let round = 1; round <= 2; round++) {
    await unassign(g, a.clientId);
    await a.waitFor(() => !a.monitoring, 3000);
    await assign(g, a.clientId);
    await a.waitFor(() => a.monitoring, 3000);
    if (!autoAck) a.ack(2 * round);
    await a.waitFor(() => a.lastAckedSeq === 2 * round, 3000);
    await eventually(async () => (await stored(g, a.clientId, 'acked')) === 2 * round, `ack ${2 * round} stored`);
    if (round === 1) keep(await checkpoint(g, a.clientId));
  }
  expect(a.commands.map((c) => c.seq)).toEqual([1, 2, 3, 4]);
  return a;
}

describe('sequence numbers after Redis lost its last writes', () => {
  it('F4 C7: an agent that reconnects with last_acked_seq beyond the log gets the next command as new, never as a duplicate', async () => {
    gw = await startTestGateway({ pool: { linux: 1 }, gateway: { heartbeatIntervalMs: 60_000 } });
    const g = gw;
    let cp: Checkpoint | undefined;
    const a = await agentWithHistory(g, (c) => (cp = c));
    await a.close();
    await eventually(async () => (await g.redis.hexists(g.keys.online(DEFAULT_TENANT), a.clientId)) === 0, 'agent offline');
    // Same process: only the agent's last_acked_seq shows that seq 3 and 4 were lost.
    await loseWritesSince(g, a.clientId, cp!, false);
    expect(await stored(g, a.clientId, 'seq')).toBe(2);
    const welcome = await a.connect();
    expect(welcome.license.licensed).toBe(true);
    expect(await stored(g, a.clientId, 'seq')).toBeGreaterThanOrEqual(4);
    await unassign(g, a.clientId);
    await a.waitFor(() => a.commands.length === 5, 3000);
    const last = a.commands[4]!;
    expect(last).toMatchObject({ kind: 'stop', duplicate: false });
    expect(last.seq).toBeGreaterThan(4);
    expect(a.monitoring).toBe(false);
    await eventually(async () => (await stored(g, a.clientId, 'acked')) === last.seq, 'the new command acked');
    await a.close();
  });

  it('F4 C7: an agent that stayed connected through the loss gets the next command: its seq is past everything it was sent', async () => {
    // No heartbeat flush within the test: the command alone must get through.
    gw = await startTestGateway({ pool: { linux: 1 }, gateway: { heartbeatIntervalMs: 60_000, lastSeenFlushMs: 60_000 } });
    const g = gw;
    let cp: Checkpoint | undefined;
    const a = await agentWithHistory(g, (c) => (cp = c));
    await loseWritesSince(g, a.clientId, cp!, true);
    await unassign(g, a.clientId);
    await a.waitFor(() => a.commands.length === 5, 3000);
    const last = a.commands[4]!;
    expect(last).toMatchObject({ kind: 'stop', duplicate: false });
    expect(last.seq).toBeGreaterThan(4);
    expect(a.monitoring).toBe(false);
    await eventually(async () => (await stored(g, a.clientId, 'acked')) === last.seq, 'the new command acked');
    // And the log goes on from there.
    await assign(g, a.clientId);
    await a.waitFor(() => a.commands.length === 6, 3000);
    expect(a.commands[5]).toMatchObject({ kind: 'start', seq: last.seq + 1, duplicate: false });
    expect(a.monitoring).toBe(true);
    await a.close();
  });

  it('F4 C7: an ack in flight across the loss (beyond the stored seq) repairs the log instead of closing the connection', async () => {
    gw = await startTestGateway({ pool: { linux: 1 }, gateway: { heartbeatIntervalMs: 60_000, lastSeenFlushMs: 60_000 } });
    const g = gw;
    let cp: Checkpoint | undefined;
    const a = await agentWithHistory(g, (c) => (cp = c), false);
    await unassign(g, a.clientId);
    await a.waitFor(() => a.commands.length === 5 && !a.monitoring, 3000);
    // Command 5 was applied; Redis loses everything after the first round before its ack lands.
    await loseWritesSince(g, a.clientId, cp!, true);
    a.ack(5);
    await a.waitFor(() => a.commands.length === 6, 3000);
    expect(a.lastClose).toBeNull();
    const restated = a.commands[5]!;
    expect(restated).toMatchObject({ kind: 'stop', reason: 'UNASSIGNED_BY_ADMIN', duplicate: false });
    expect(restated.seq).toBeGreaterThan(5);
    a.ack(restated.seq);
    await eventually(async () => (await stored(g, a.clientId, 'acked')) === restated.seq, 'the restating command acked');
    expect(a.connected).toBe(true);
    await a.close();
  });
});
