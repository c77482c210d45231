/**
 * DURABILITY=replicas:1 (SPEC F5) against a real primary and a real replica (`--replicaof`): an
 * acknowledgement (Welcome, job result) goes out only once the replica holds the change; while
 * the replica is paused (SIGSTOP) it waits up to DURABILITY_TIMEOUT_MS and is then refused with
 * the retryable NOT_DURABLE.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentError } from '../../agent-sim/agent.ts';
import { ADMIN_QUEUE } from '../../src/jobs/contract.ts';
import { clientState } from '../../src/licensing/client-admin.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { LicenseType } from '../../src/protocol/wire.ts';
import { replicaGateOf, type DurabilityMode } from '../../src/store/durability.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { createRedis, waitReady } from '../../src/store/redis-connection.ts';
import { TurnBatcher } from '../../src/store/turn-batcher.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { crash, replicaPair, signal, startDurableStack, waitInSync, type DurableStack } from '../helpers/durable-stack.ts';
import { eventually } from '../helpers/gateway.ts';
import { ledgerContext } from '../helpers/ledger.ts';

let pair: Awaited<ReturnType<typeof replicaPair>>;
/** Reads on the primary: never the stack's own connection, which a WAIT in flight blocks. */
let primary: Redis;
beforeAll(async () => {
  pair = await replicaPair();
  primary = createRedis(pair.primary.url, { connectionName: 'licensegate:test-primary' });
  primary.on('error', () => {});
  await waitReady(primary);
});
afterAll(() => {
  signal(pair.replica.pid, 'SIGCONT');
  pair.replicaConn.disconnect();
  primary.disconnect();
});

const replicas = (timeoutMs: number): DurabilityMode => ({ kind: 'replicas', replicas: 1, timeoutMs });
/** The Client as the replica / the primary has it (null: not there). */
const onReplica = (stack: DurableStack, clientId: string) => clientState(ledgerContext(pair.replicaConn, stack.keys), DEFAULT_TENANT, clientId).catch(() => null);
const onPrimary = (stack: DurableStack, clientId: string) => clientState(ledgerContext(primary, stack.keys), DEFAULT_TENANT, clientId).catch(() => null);

/** Pauses the replica for the duration of fn (always resumed). */
async function whilePaused<T>(fn: () => Promise<T>): Promise<T> {
  signal(pair.replica.pid, 'SIGSTOP');
  try {
    return await fn();
  } finally {
    signal(pair.replica.pid, 'SIGCONT');
  }
}

describe('DURABILITY=replicas:1', () => {
  it('F5: a Welcome goes out only once the replica holds the enrollment, however long the replica takes within the timeout', async () => {
    const stack = await startDurableStack(pair.primary.url, replicas(20_000), { pool: { linux: 10 } });
    try {
      const agent = newAgent(stack.wsUrl, { os: OS.linux, handshakeTimeoutMs: 30_000 });
      let welcomed = false;
      const pending = agent.connect().then((w) => {
        welcomed = true;
        return w;
      });
      pending.catch(() => {}); // asserted below
      await whilePaused(async () => {
        // The enrollment has started writing on the primary (its client id claim), but while the
        // replica is paused no Welcome is sent.
        await eventually(async () => (await primary.hget(stack.keys.clientTenant(), agent.clientId)) !== null, 'claim written on the primary');
        await new Promise((r) => setTimeout(r, 500));
        expect(welcomed).toBe(false);
      });
      const welcome = await pending;
      // No waiting here: when the Welcome arrives, the replica already has the Client.
      expect(await onReplica(stack, agent.clientId)).toMatchObject({ license: 'linux', online: true });
      expect(welcome.license).toMatchObject({ licensed: true, type: LicenseType.LICENSE_TYPE_LINUX });
      await agent.close();
    } finally {
      await stack.stop();
    }
  });

  it('F5: with the replica paused past the timeout the Hello is refused with NOT_DURABLE (retryable), and the agent enrolls once it is back', async () => {
    const stack = await startDurableStack(pair.primary.url, replicas(300), { pool: { linux: 10 } });
    try {
      const agent = newAgent(stack.wsUrl, { os: OS.linux });
      const refusal = await whilePaused(() => agent.connect().then(() => null, (err: unknown) => err));
      expect(refusal).toBeInstanceOf(AgentError);
      expect(refusal).toMatchObject({ code: 'NOT_DURABLE', closeCode: 1013 });
      expect((refusal as AgentError).retryAfterMs).toBeGreaterThan(0);
      // Its online record is gone (nothing may hold the client id: ENROLLMENT_PENDING).
      await eventually(async () => (await onPrimary(stack, agent.clientId))?.online !== true, 'no online record holds the client id');
      await waitInSync(pair.replicaConn);
      const welcome = await agent.connect();
      expect(welcome.license).toMatchObject({ licensed: true, type: LicenseType.LICENSE_TYPE_LINUX });
      expect(welcome.clientCredential).toBeDefined();
      expect(await onReplica(stack, agent.clientId)).toMatchObject({ license: 'linux' });
      await agent.close();
    } finally {
      await stack.stop();
    }
  });

  it('F5: one WAIT covers a turn, and commits made while a WAIT is out share the next one', async () => {
    const stack = await startDurableStack(pair.primary.url, replicas(400));
    try {
      const gate = replicaGateOf(stack.redis)!;
      const batcher = new TurnBatcher(stack.redis);
      const before = gate.waits;
      // 100 writes in one turn: one pipeline, one WAIT.
      const key = (i: number) => `${stack.keys.prefix}:durable-test:${i}`;
      await Promise.all(Array.from({ length: 100 }, (_, i) => batcher.run(key(i), (p) => p.set(key(i), 'v'))));
      expect(gate.waits - before).toBe(1);
      expect(await pair.replicaConn.get(key(99))).toBe('v');

      // Replica paused: the first turn's WAIT runs into its timeout; 30 turns of writes made
      // meanwhile go out behind one more WAIT, not one each.
      const results = await whilePaused(async () => {
        const outcome = (i: number) => batcher.run(key(i), (p) => p.set(key(i), 'w')).then(() => 'durable', (e: { code?: string }) => e.code);
        const all = [outcome(0)];
        for (let i = 1; i <= 30; i++) {
          await new Promise((r) => setImmediate(r));
          all.push(outcome(i));
        }
        return Promise.all(all);
      });
      expect(new Set(results)).toEqual(new Set(['NOT_DURABLE']));
      expect(gate.waits - before).toBe(3);
    } finally {
      await stack.stop();
    }
  });

  it('F5: an admin job result is returned only once the replica holds the change; while it is paused the attempt fails as retryable and the retry completes', async () => {
    const stack = await startDurableStack(pair.primary.url, replicas(300), { pool: { linux: 10 } });
    const queue = new Queue(ADMIN_QUEUE, { connection: primary, prefix: stack.keys.queuePrefix });
    try {
      const agent = newAgent(stack.wsUrl, { os: OS.linux });
      await agent.connect();
      await agent.close();
      const jobId = 'durable-unassign';
      await whilePaused(async () => {
        await queue.add('client.unassign', { actor: TECHNICIAN, tenantId: DEFAULT_TENANT, clientId: agent.clientId }, { jobId, attempts: 10, backoff: { type: 'fixed', delay: 200 } });
        await eventually(async () => ((await queue.getJob(jobId))?.failedReason ?? '').startsWith('NOT_DURABLE'), 'an attempt refused as not durable', 10_000);
        const job = (await queue.getJob(jobId))!;
        expect(await job.getState()).not.toBe('completed');
        // The effect is applied on the primary; only the acknowledgement waits.
        expect(await onPrimary(stack, agent.clientId)).toMatchObject({ license: null });
      });
      await eventually(async () => (await (await queue.getJob(jobId))?.getState()) === 'completed', 'job completed after the replica came back', 20_000);
      const job = (await queue.getJob(jobId))!;
      expect(job.attemptsMade).toBeGreaterThanOrEqual(2);
      expect(job.returnvalue).toMatchObject({ clientId: agent.clientId, license: null });
      expect(await onReplica(stack, agent.clientId)).toMatchObject({ license: null });
    } finally {
      await queue.close();
      await stack.stop();
    }
  });

  it('F5 X3: replica paused mid-burst, then kill -9 of the primary: the promoted replica holds every enrollment that was acknowledged', async () => {
    const stack = await startDurableStack(pair.primary.url, replicas(5_000), { pool: { linux: 100 } });
    const agents = Array.from({ length: 60 }, () => newAgent(stack.wsUrl, { os: OS.linux }));
    const acked: string[] = [];
    const settled = Promise.allSettled(
      agents.map((a) =>
        a.connect().then(() => {
          acked.push(a.clientId);
          if (acked.length === 20) signal(pair.replica.pid, 'SIGSTOP'); // the rest of the burst meets a paused replica
        }),
      ),
    );
    try {
      await eventually(() => acked.length >= 20, '20 Welcomes', 20_000);
      await new Promise((r) => setTimeout(r, 500));
      await crash(pair.primary);
    } finally {
      signal(pair.replica.pid, 'SIGCONT');
    }
    await pair.replicaConn.call('REPLICAOF', 'NO', 'ONE');
    const told = [...acked];
    const found = await Promise.all(told.map(async (id) => ((await onReplica(stack, id)) ? id : null)));
    expect(found).toEqual(told);
    await settled;
    for (const a of agents) a.terminate();
    await stack.stop();
  });
});
