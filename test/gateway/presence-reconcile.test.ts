/**
 * F1 C4 C5: the periodic reconciliation makes the online records match the sockets the node
 * really holds, so no record is wrong for longer than one interval while its node lives —
 * whatever made it wrong (a lost disconnect or Hello reply, a lost supersede doorbell).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, AgentError } from '../../agent-sim/agent.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { clientId, newAgent, OS } from '../helpers/agents.ts';
import { eventually, startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.ts';

const RECONCILE_MS = 300;
/** One interval, plus a pass's own time and a loaded machine's slack. */
const BOUND_MS = RECONCILE_MS + 2700;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ pool: { workstation: 20 }, gateway: { reconcileIntervalMs: RECONCILE_MS } });
});
afterAll(() => gw.stop());

const online = () => gw.keys.online(DEFAULT_TENANT);
const recordOf = (id: string) => gw.redis.hget(online(), id);

describe('presence reconciliation', () => {
  it('F1 C4: a record of this node that no socket backs is removed within one interval, so ENROLLMENT_PENDING ends with it', async () => {
    // Registered but never confirmed (the agent vanished right after its Welcome) ...
    const id = clientId('orphan');
    const vanished = new Agent({ url: gw.url, clientId: id, enrollmentToken: TEST_TOKEN, os: OS.windows, heartbeat: false });
    await vanished.connect();
    vanished.terminate();
    await eventually(async () => (await recordOf(id)) === null, 'offline after its close');
    // ... and a record of this node left behind (a disconnect that never reached Redis).
    await gw.redis.hset(online(), id, `${gw.gateway.nodeId}:999999`);
    const retry = () => new Agent({ url: gw.url, clientId: id, enrollmentToken: TEST_TOKEN, os: OS.windows });
    const refused = await retry().connect().then(() => 'welcome', (err: AgentError) => err.code);
    expect(refused).toBe('ENROLLMENT_PENDING');

    await eventually(async () => (await recordOf(id)) === null, 'the orphan record removed', BOUND_MS);
    const agent = retry();
    await agent.connect();
    expect(await recordOf(id)).toMatch(new RegExp(`^${gw.gateway.nodeId}:`));
    await agent.close();
  });

  it('F1 C4: a record of a node that is not registered at all is removed within one interval', async () => {
    const agent = newAgent(gw.url);
    await agent.connect();
    await agent.close();
    await eventually(async () => (await recordOf(agent.clientId)) === null, 'offline after its close');
    await gw.redis.hset(online(), agent.clientId, 'ghost-node-that-never-beat:7');
    await eventually(async () => (await recordOf(agent.clientId)) === null, 'the ghost record removed', BOUND_MS);
  });

  it('F1 C4: a live connection whose record went missing is recorded online again within one interval', async () => {
    const agent = newAgent(gw.url);
    await agent.connect();
    const token = await recordOf(agent.clientId);
    expect(token).not.toBeNull();
    await gw.redis.hdel(online(), agent.clientId);
    await eventually(async () => (await recordOf(agent.clientId)) === token, 'the record restored', BOUND_MS);
    expect(agent.connected).toBe(true);
    await agent.close();
    await eventually(async () => (await recordOf(agent.clientId)) === null, 'offline after its close');
  });

  it('F1 C5: a live connection whose record a newer connection holds (its supersede doorbell lost) for a whole interval is closed with SUPERSEDED, and the record stays', async () => {
    const agent = newAgent(gw.url);
    await agent.connect();
    const newer = 'other-node-alive:42';
    await gw.redis.zadd(gw.keys.nodes(), Date.now(), 'other-node-alive');
    await gw.redis.hset(online(), agent.clientId, newer);
    // Not on first sight: the holder's node gets a whole interval to remove an orphan record.
    await new Promise((r) => setTimeout(r, RECONCILE_MS / 2));
    expect(agent.connected).toBe(true);
    await agent.waitFor(() => agent.lastClose !== null, BOUND_MS + RECONCILE_MS);
    expect(agent.lastError?.code).toBe('SUPERSEDED');
    await new Promise((r) => setTimeout(r, 2 * RECONCILE_MS));
    expect(await recordOf(agent.clientId)).toBe(newer);
    await gw.redis.zrem(gw.keys.nodes(), 'other-node-alive');
  });

  it('F1 C4: a live connection whose record is gone is restored even when a newer connection held it since (that one closed, or its Hello ran after its socket was gone)', async () => {
    const agent = newAgent(gw.url);
    await agent.connect();
    // A newer connection's Hello took a higher epoch, then its record went with its disconnect
    // (as when a gateway's link to Redis is cut: the Hello runs after the agent left).
    const ck = gw.keys.client(DEFAULT_TENANT, agent.clientId);
    const newerEpoch = Number(await gw.redis.hincrby(ck, 'connEpoch', 1));
    await gw.redis.multi().hdel(online(), agent.clientId).hset(ck, 'holderEpoch', newerEpoch).exec();
    await eventually(async () => (await recordOf(agent.clientId))?.startsWith(`${gw.gateway.nodeId}:`) === true, 'the live connection recorded online again', BOUND_MS);
    expect(agent.connected).toBe(true);
    expect(agent.lastError).toBeNull();
    await agent.close();
  });

  it('F1 C5: a connection whose Hello Redis lost takes its record back from the older connection named in it', async () => {
    const agent = newAgent(gw.url);
    await agent.connect();
    // Redis restarted from an older AOF: the record names the Client's previous connection (on a
    // live node) with the epoch that connection had, one below this connection's.
    const ck = gw.keys.client(DEFAULT_TENANT, agent.clientId);
    const mine = Number(await gw.redis.hget(ck, 'holderEpoch'));
    const older = 'other-node-alive-2:41';
    await gw.redis.zadd(gw.keys.nodes(), Date.now(), 'other-node-alive-2');
    await gw.redis.multi().hset(online(), agent.clientId, older).hset(ck, 'holderEpoch', mine - 1, 'connEpoch', mine - 1).exec();
    await eventually(async () => (await recordOf(agent.clientId))?.endsWith(older) === false && (await recordOf(agent.clientId)) !== null, 'record taken back by the live, newer connection', BOUND_MS);
    expect(agent.connected).toBe(true);
    expect(agent.lastError).toBeNull();
    // Epochs Redis lost are never issued again.
    expect(Number(await gw.redis.hget(ck, 'connEpoch'))).toBe(mine);
    await gw.redis.zrem(gw.keys.nodes(), 'other-node-alive-2');
    await agent.close();
  });
});
