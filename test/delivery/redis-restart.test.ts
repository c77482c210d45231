/**
 * A real Redis that loses its last writes (SPEC F4, C7): the embedded redis-server (AOF on) is
 * killed with SIGKILL and started again from a copy of its AOF taken earlier, as after a crash
 * whose last writes never reached the disk. Agents stay connected to the gateway throughout
 * (or come back later); each must end in the state Redis now holds, with no command told twice
 * or skipped, and new commands must never reuse a seq the agent already has.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { crash } from '../helpers/durable-stack.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { GatewayServer } from '../../src/gateway/gateway-server.ts';
import type { GatewayOptions } from '../../src/gateway/gateway-options.ts';
import { assignClient, clientState, unassignClient } from '../../src/licensing/client-admin.ts';
import type { LedgerContext } from '../../src/licensing/ledger-context.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { freePort } from '../../src/net/free-port.ts';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/store/embedded-redis.ts';
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import { createRedis, waitReady } from '../../src/store/redis-connection.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, TEST_TOKEN } from '../helpers/gateway.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { newKeys } from '../helpers/redis.ts';

/** A gateway on its own embedded Redis that can be checkpointed and crashed back to the checkpoint. */
interface Rig {
  url: string;
  redis: Redis;
  keys: Keys;
  ctx: LedgerContext;
  gateway: GatewayServer;
  /** Copies the AOF as it is now. */
  checkpoint(): void;
  /** kill -9, then start again from the checkpoint's AOF on the same port; resolves once the gateway's connections are back. */
  crashToCheckpoint(): Promise<void>;
  stop(): Promise<void>;
}

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

async function startRig(gatewayOptions: Partial<GatewayOptions>): Promise<Rig> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lg-restart-'));
  const saved = join(tmpdir(), `${dataDir.split('/').pop()}-checkpoint`);
  const port = await freePort();
  let server: EmbeddedRedis = await startEmbeddedRedis({ dataDir, port });
  const redis = createRedis(server.url, { connectionName: 'licensegate:test' });
  redis.on('error', () => {}); // the crash below drops it; it reconnects by itself
  await waitReady(redis);
  const keys = newKeys('rs');
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  const ctx = ledgerContext(redis, keys);
  await activatePool(ctx, { linux: 2 });
  const gateway = new GatewayServer({ redis, keys, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), port: 0, ...gatewayOptions });
  const address = await gateway.start();
  // The default tenant's doorbell (subscribed at its first Hello on this node).
  const channel = keys.doorbellChannel(DEFAULT_TENANT, gateway.nodeId);
  return {
    url: `ws://127.0.0.1:${address.port}`,
    redis,
    keys,
    ctx,
    gateway,
    checkpoint() {
      // The AOF is written before a command's reply is sent: a copy taken now holds every
      // change acknowledged so far (fsync aside, which a copy does not need).
      rmSync(saved, { recursive: true, force: true });
      cpSync(join(dataDir, 'redis'), saved, { recursive: true });
    },
    async crashToCheckpoint() {
      await crash(server);
      rmSync(join(dataDir, 'redis'), { recursive: true, force: true });
      cpSync(saved, join(dataDir, 'redis'), { recursive: true });
      server = await startEmbeddedRedis({ dataDir, port });
      await eventually(() => redis.status === 'ready', 'gateway connection back', 15_000);
      // The doorbell needs the node's channel subscription back too.
      await eventually(async () => Number(((await redis.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number])[1]) > 0, 'doorbell channel resubscribed', 15_000);
    },
    async stop() {
      await gateway.stop();
      redis.disconnect();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(saved, { recursive: true, force: true });
    },
  };
}

const unassign = (r: Rig, id: string) => unassignClient(r.ctx, TECHNICIAN, DEFAULT_TENANT, id);
const assign = (r: Rig, id: string) => assignClient(r.ctx, TECHNICIAN, DEFAULT_TENANT, id);
const storedAcked = async (r: Rig, id: string) => Number(await r.redis.hget(r.keys.client(DEFAULT_TENANT, id), 'acked'));

/**
 * A licensed agent; unassigned (seq 1) and assigned (seq 2), then the checkpoint, then
 * unassigned again (seq 3): after the crash Redis says licensed, the agent believes it is not.
 */
async function agentAcrossCheckpoint(r: Rig): Promise<Agent> {
  const a = newAgent(r.url, { os: OS.linux });
  await a.connect();
  await a.waitFor(() => a.monitoring);
  await unassign(r, a.clientId);
  await assign(r, a.clientId);
  await a.waitFor(() => a.monitoring && a.lastAckedSeq === 2, 5000);
  await eventually(async () => (await storedAcked(r, a.clientId)) === 2, 'ack 2 stored');
  r.checkpoint();
  await unassign(r, a.clientId);
  await a.waitFor(() => !a.monitoring && a.lastAckedSeq === 3, 5000);
  await eventually(async () => (await storedAcked(r, a.clientId)) === 3, 'ack 3 stored');
  return a;
}

/** The agent believes what Redis holds, and nothing was told twice. */
async function expectAgrees(r: Rig, a: Agent): Promise<void> {
  const state = await clientState(r.ctx, DEFAULT_TENANT, a.clientId);
  expect(a.monitoring).toBe(state.license !== null);
  expect(a.commands.filter((c) => c.duplicate)).toEqual([]);
  const seqs = a.commands.map((c) => c.seq);
  expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  expect(new Set(seqs).size).toBe(seqs.length);
}

describe('Redis restarted from an older AOF', () => {
  it('F4 C7: an agent connected through the crash is brought back to the state Redis holds, then gets new commands', async () => {
    rig = await startRig({ heartbeatIntervalMs: 200, lastSeenFlushMs: 100 });
    const r = rig;
    const a = await agentAcrossCheckpoint(r);
    await r.crashToCheckpoint();
    expect((await clientState(r.ctx, DEFAULT_TENANT, a.clientId)).license).toBe('linux');
    await a.waitFor(() => a.monitoring, 10_000);
    await expectAgrees(r, a);
    const told = a.commands.length;
    await unassign(r, a.clientId);
    await a.waitFor(() => a.commands.length === told + 1 && !a.monitoring, 5000);
    await expectAgrees(r, a);
    await a.close();
  });

  it('F4 C7: a command issued right after the crash, before any repair, gets a seq past everything the agent has', async () => {
    // No heartbeat flush during the test: only the command itself can reach the agent.
    rig = await startRig({ heartbeatIntervalMs: 60_000, lastSeenFlushMs: 60_000 });
    const r = rig;
    const a = await agentAcrossCheckpoint(r);
    await r.crashToCheckpoint();
    await unassign(r, a.clientId);
    await a.waitFor(() => a.commands.length === 4, 5000);
    expect(a.commands[3]).toMatchObject({ kind: 'stop', duplicate: false });
    expect(a.commands[3]!.seq).toBeGreaterThan(3);
    await expectAgrees(r, a);
    await eventually(async () => (await storedAcked(r, a.clientId)) === a.commands[3]!.seq, 'new command acked');
    await a.close();
  });

  it('F4 C7: an agent that was away during the crash comes back to the state Redis holds and then gets new commands', async () => {
    rig = await startRig({ heartbeatIntervalMs: 200, lastSeenFlushMs: 100 });
    const r = rig;
    const a = await agentAcrossCheckpoint(r);
    await a.close();
    await r.crashToCheckpoint();
    const welcome = await a.connect();
    expect(welcome.license.licensed).toBe(true);
    await expectAgrees(r, a);
    await unassign(r, a.clientId);
    await a.waitFor(() => a.commands.length === 4 && !a.monitoring, 5000);
    expect(a.commands[3]!.seq).toBeGreaterThan(3);
    await expectAgrees(r, a);
    await a.close();
  });
});
