import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent-sim/agent.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { createTenant, ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { startTestAdmin, type TestAdmin } from '../helpers/admin.ts';
import { TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, newKeys, redisEnv, redisTarget } from '../helpers/redis.ts';

const run = promisify(execFile);
let redis: RedisClient;
const keys = newKeys('mpj');
const ctx = () => ledgerContext(redis, keys);
let gateways: GatewayProcess[] = [];
let t: TestAdmin;
const env = () => ({ ...redisEnv(), KEY_PREFIX: keys.prefix, QUEUE_PREFIX: keys.queuePrefix, ENROLLMENT_TOKEN: TEST_TOKEN, RUN_WORKERS: 'false', HEARTBEAT_INTERVAL_MS: '5000' });

beforeAll(async () => {
  redis = await connectRedis();
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  await activatePool(ctx(), { workstation: 120, linux: 100, 'pam-seat': 20 });
  // Two gateway-only processes; the worker runs here, in the test process.
  gateways = await Promise.all([startGatewayProcess(env()), startGatewayProcess(env())]);
  t = await startTestAdmin(ctx());
});
afterAll(async () => {
  await t.stop();
  await Promise.all(gateways.map((g) => g.stop()));
  redis.disconnect();
});

describe('admin jobs across processes', () => {
  it('C7: StopMonitoring reaches an online agent on a different gateway process than the worker, within tens of ms', async () => {
    const agent = newAgent(gateways[1]!.url, { os: OS.linux });
    await agent.connect();
    await agent.waitFor(() => agent.monitoring);
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const stopped = agent.waitFor(() => !agent.monitoring, 5000);
      await t.admin.unassign({ tenantId: DEFAULT_TENANT, clientId: agent.clientId });
      await stopped;
      latencies.push(performance.now() - started);
      await t.admin.assign({ tenantId: DEFAULT_TENANT, clientId: agent.clientId });
      await agent.waitFor(() => agent.monitoring);
    }
    latencies.sort((a, b) => a - b);
    // Enqueue → worker → Lua → publish → other process → agent. Median well under a second even on a loaded 2-core box.
    expect(latencies[2]).toBeLessThan(500);
    await agent.close();
  });

  it('C6 R1: an offline assignment survives a gateway restart and reaches the agent on reconnect', async () => {
    const agent = newAgent(gateways[0]!.url, { os: OS.windows });
    await agent.connect();
    await agent.close();
    await t.admin.unassign({ tenantId: DEFAULT_TENANT, clientId: agent.clientId });
    await t.admin.assign({ tenantId: DEFAULT_TENANT, clientId: agent.clientId });
    expect(await gateways[0]!.stop()).toBe(0);
    gateways[0] = await startGatewayProcess(env());
    const again = new Agent({ url: gateways[0].url, clientId: agent.clientId, credential: agent.credential!, os: OS.windows, lastAckedSeq: agent.lastAckedSeq });
    expect((await again.connect()).license.licensed).toBe(true);
    await again.waitFor(() => again.lastAckedSeq === 2);
    expect(again.monitoring).toBe(true);
    expect(again.commands.map((c) => c.kind).slice(-2)).toEqual(['stop', 'start']);
    await again.close();
  });

  it('A1: an admin service using only plain BullMQ and the documented contract assigns, unassigns and reads its result', async () => {
    const agent = newAgent(gateways[1]!.url, { os: OS.linux });
    await agent.connect();
    await agent.waitFor(() => agent.monitoring);
    const script = join(import.meta.dirname, '../fixtures/plain-admin-service.mjs');
    const payload = JSON.stringify({ actor: TECHNICIAN, tenantId: DEFAULT_TENANT, clientId: agent.clientId });
    const { stdout } = await run(process.execPath, [script, JSON.stringify(redisTarget()), keys.queuePrefix, 'client.unassign', payload, 'plain-unassign-1']).catch((e: { stdout: string; stderr: string }) => {
      throw new Error(`plain admin service failed: ${e.stdout}${e.stderr}`);
    });
    expect(JSON.parse(stdout)).toMatchObject({ clientId: agent.clientId, license: null, reason: 'UNASSIGNED_BY_ADMIN' });
    await agent.waitFor(() => !agent.monitoring);
    const forbidden = JSON.stringify({ actor: { userId: 'x', tenantId: DEFAULT_TENANT, permissions: [] }, tenantId: DEFAULT_TENANT, clientId: agent.clientId });
    const refused = await run(process.execPath, [script, JSON.stringify(redisTarget()), keys.queuePrefix, 'client.assign', forbidden, 'plain-assign-1']).catch((e: { stdout: string }) => e);
    expect(JSON.parse((refused as { stdout: string }).stdout).error).toMatch(/^FORBIDDEN: /);
    await agent.close();
  });

  it('L3 L4 A3 T6: invariants hold after 500 concurrent mixed jobs racing 300 connecting agents', async () => {
    const tenant = await createTenant(ctx(), TECHNICIAN, 'Stress');
    const seed = Array.from({ length: 60 }, (_, i) => newAgent(gateways[i % 2]!.url, { os: i % 2 ? OS.windows : OS.linux }));
    await Promise.all(seed.map((a) => a.connect()));
    const fresh = [
      ...Array.from({ length: 240 }, (_, i) => newAgent(gateways[i % 2]!.url, { os: i % 2 ? OS.windows : OS.linux })),
      ...Array.from({ length: 60 }, (_, i) => newAgent(gateways[i % 2]!.url, { tenantId: tenant.id, enrollmentToken: tenant.enrollmentToken, os: OS.linux })),
    ];
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 500; i++) {
      const a = seed[i % seed.length]!;
      const key = `stress-${i % 450}`; // 50 repeats of earlier idempotency keys
      const op = i % 5;
      const call =
        op === 0 ? t.admin.unassign({ tenantId: DEFAULT_TENANT, clientId: a.clientId, idempotencyKey: key })
        : op === 1 ? t.admin.assign({ tenantId: DEFAULT_TENANT, clientId: a.clientId, idempotencyKey: key })
        : op === 2 ? t.admin.grant({ tenantId: tenant.id, type: 'linux', count: 1, idempotencyKey: key })
        : op === 3 ? t.admin.takeBack({ tenantId: tenant.id, type: 'linux', count: 1, force: true, idempotencyKey: key })
        : t.admin.assign({ tenantId: tenant.id, clientId: a.clientId, idempotencyKey: key });
      jobs.push(call.catch((e: { code?: string }) => e.code ?? 'THROWN'));
    }
    const connects = fresh.map((a) => a.connect());
    const outcomes = await Promise.all(jobs);
    await Promise.all(connects);
    const codes = new Set(outcomes.filter((o): o is string => typeof o === 'string'));
    for (const c of codes) expect(['CLIENT_ALREADY_LICENSED', 'NO_LICENSE_AVAILABLE', 'NOT_ENOUGH_LICENSES', 'CLIENT_NOT_FOUND']).toContain(c);
    expect(await checkInvariants(redis, keys)).toEqual({ ok: true, violations: [] });
    await Promise.all([...seed, ...fresh].map((a) => a.close()));
  });
});
