/**
 * DURABILITY=always (SPEC F5, R1): Redis fsyncs its AOF before it replies, so whatever an agent
 * or an admin was told survives a crash of redis-server and a restart from the same AOF directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { ADMIN_QUEUE } from '../../src/jobs/contract.ts';
import { clientState } from '../../src/licensing/client-admin.ts';
import { LicenseType } from '../../src/protocol/wire.ts';
import { findRunningEmbedded, startEmbeddedRedis } from '../../src/store/embedded-redis.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { createRedis, waitReady } from '../../src/store/redis-connection.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { crash, ownRedis, startDurableStack } from '../helpers/durable-stack.ts';
import { TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess } from '../helpers/gateway-process.ts';
import { ledgerContext } from '../helpers/ledger.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'lg-durable-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function configOf(url: string): Promise<Record<string, string>> {
  const r = new Redis(url);
  try {
    const flat = (await r.call('CONFIG', 'GET', 'appendonly', 'appendfsync')) as string[];
    return Object.fromEntries(flat.flatMap((v, i) => (i % 2 ? [] : [[v, flat[i + 1]!]])));
  } finally {
    r.disconnect();
  }
}

describe('DURABILITY=always', () => {
  it('F5 R1: the embedded Redis runs with appendonly yes and appendfsync always, also one reused from an everysec run', async () => {
    const zeroConfig = (dataDir: string) => ({ REDIS_URL: '', KEY_PREFIX: '', DATA_DIR: dataDir, ENROLLMENT_TOKEN: TEST_TOKEN, DURABILITY: 'always' });
    const fresh = tempDir();
    const gw = await startGatewayProcess(zeroConfig(fresh));
    // The embedded Redis requires its password (SPEC Z2): found with it as the admin CLI finds it.
    expect(await configOf((await findRunningEmbedded(fresh))!.url)).toEqual({ appendonly: 'yes', appendfsync: 'always' });
    expect(await gw.stop()).toBe(0);

    // An embedded instance still running from an everysec run of the same DATA_DIR is reused.
    const reused = tempDir();
    const earlier = await startEmbeddedRedis({ dataDir: reused });
    try {
      expect(await configOf(earlier.url)).toEqual({ appendonly: 'yes', appendfsync: 'everysec' });
      const again = await startGatewayProcess(zeroConfig(reused));
      expect(await configOf(earlier.url)).toEqual({ appendonly: 'yes', appendfsync: 'always' });
      expect(await again.stop()).toBe(0);
    } finally {
      await earlier.stop();
    }
  });

  it('F5 R1: kill -9 of redis-server in a burst of enrollments: every acknowledged one survives the restart from its AOF', async () => {
    const dataDir = tempDir();
    const first = await ownRedis({ dataDir, persist: true, appendfsync: 'always' });
    const stack = await startDurableStack(first.url, { kind: 'always' }, { pool: { linux: 500 } });
    const burst = 120;
    const killAt = 60;
    const acked: { clientId: string; licensed: boolean }[] = [];
    const agents: Agent[] = Array.from({ length: burst }, () => newAgent(stack.wsUrl, { os: OS.linux, handshakeTimeoutMs: 20_000 }));
    let restarted: Promise<unknown> | undefined;
    const settled = Promise.allSettled(
      agents.map((a) =>
        a.connect().then((welcome) => {
          acked.push({ clientId: a.clientId, licensed: welcome.license.licensed });
          // The crash comes right after an acknowledgement, with the rest of the burst in flight.
          if (acked.length === killAt) restarted = crash(first).then(() => ownRedis({ dataDir, persist: true, appendfsync: 'always', port: first.port }));
        }),
      ),
    );
    await settled;
    expect(restarted, 'the crash happened').toBeDefined();
    await restarted;
    expect(acked.length).toBeGreaterThanOrEqual(killAt);

    const check = createRedis(first.url, { connectionName: 'licensegate:test-check' });
    await waitReady(check);
    const ctx = ledgerContext(check, stack.keys);
    const after = await Promise.all(acked.map(async (a) => ({ clientId: a.clientId, licensed: (await clientState(ctx, DEFAULT_TENANT, a.clientId).catch(() => null))?.license === 'linux' })));
    expect(after).toEqual(acked);
    check.disconnect();
    await Promise.all(agents.map((a) => a.close().catch(() => {})));
    await stack.stop();
  });

  it('F5 R1: kill -9 of redis-server right after an admin job result: the change and the result survive the restart', async () => {
    const dataDir = tempDir();
    const first = await ownRedis({ dataDir, persist: true, appendfsync: 'always' });
    const stack = await startDurableStack(first.url, { kind: 'always' }, { pool: { linux: 2 } });
    const agent = newAgent(stack.wsUrl, { os: OS.linux });
    expect((await agent.connect()).license).toMatchObject({ licensed: true, type: LicenseType.LICENSE_TYPE_LINUX });
    await agent.close();

    const result = await stack.admin.unassign({ tenantId: DEFAULT_TENANT, clientId: agent.clientId, idempotencyKey: 'durable-unassign' });
    await crash(first);
    expect(result).toMatchObject({ clientId: agent.clientId, license: null });
    await ownRedis({ dataDir, persist: true, appendfsync: 'always', port: first.port });

    const check = createRedis(first.url, { connectionName: 'licensegate:test-check', maxRetriesPerRequest: null });
    await waitReady(check);
    expect(await clientState(ledgerContext(check, stack.keys), DEFAULT_TENANT, agent.clientId)).toMatchObject({ license: null });
    const queue = new Queue(ADMIN_QUEUE, { connection: check, prefix: stack.keys.queuePrefix });
    const job = await queue.getJob('durable-unassign');
    expect(await job?.getState()).toBe('completed');
    expect(job?.returnvalue).toEqual(result);
    await queue.close();
    check.disconnect();
    await stack.stop();
  });
});
