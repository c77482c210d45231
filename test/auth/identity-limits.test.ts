/**
 * SPEC Z3: enrollment per tenant is rate-limited and can be capped, inside hello-1.lua's enroll
 * branch. Two real `licensegate serve` processes on one Redis (any engine: this file runs on
 * the single, Cluster and Sentinel projects), limits set through the admin job path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent-sim/agent.ts';
import { setTenantLimits } from '../../src/licensing/tenant-limits.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { runAdminCli } from '../helpers/admin-cli.ts';
import { clientId, OS } from '../helpers/agents.ts';
import { eventually, TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, redisEnv, uniquePrefix } from '../helpers/redis.ts';

let redis: RedisClient;
let gws: GatewayProcess[] = [];
let keys: Keys;
let dataDir: string;

beforeAll(async () => {
  redis = await connectRedis();
  const prefix = uniquePrefix('idl');
  keys = new Keys(prefix, `{${prefix}}`);
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  dataDir = mkdtempSync(join(tmpdir(), 'lg-idl-'));
  // Retry hints from 100 ms so the recovery below is quick; the enrollment bucket's own wait is added to them.
  const env = { ...redisEnv(), KEY_PREFIX: prefix, QUEUE_PREFIX: `{${prefix}}`, ENROLLMENT_TOKEN: TEST_TOKEN, DATA_DIR: dataDir, RETRY_BASE_MS: '100', RETRY_MAX_MS: '1000' };
  gws = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
}, 40_000);

afterAll(async () => {
  await Promise.all(gws.map((g) => g.stop()));
  redis?.disconnect();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function tenant(label: string): Promise<{ id: string; token: string }> {
  const id = `${label}-${Math.random().toString(36).slice(2, 8)}`;
  const token = `${id}-enrollment-token`;
  await ensureTenant(redis, keys, id, { enrollmentToken: token });
  return { id, token };
}

function agent(t: { id: string; token: string }, i: number, extra: Partial<ConstructorParameters<typeof Agent>[0]> = {}): Agent {
  return new Agent({ url: gws[i % gws.length]!.url, tenantId: t.id, clientId: clientId('l'), enrollmentToken: t.token, os: OS.linux, heartbeat: false, ...extra });
}

/** Connects; resolves with 'WELCOMED' or the refusal's code, retry hint and close code. */
async function attempt(a: Agent): Promise<{ code: string; retryAfterMs: number; closeCode: number }> {
  const err = (await a.connect().then(() => null, (e: unknown) => e)) as { code?: string; retryAfterMs?: number; closeCode?: number } | null;
  if (err) await a.waitFor(() => a.lastClose !== null).catch(() => {});
  return { code: err?.code ?? 'WELCOMED', retryAfterMs: err?.retryAfterMs ?? 0, closeCode: err ? (a.lastClose?.code ?? 0) : 0 };
}

describe('Z3 enrollment limits per tenant (real gateway processes)', () => {
  it('Z3: past its burst a tenant\'s new enrollments are ENROLL_RATE_LIMITED with a retry hint, reconnects are not, and an agent honouring the hint gets in', async () => {
    const t = await tenant('rate');
    const set = await runAdminCli(keys, ['tenants', 'limits', t.id, '--enroll-rate', '2', '--enroll-burst', '10', '--json'], { dataDir });
    expect(set.status).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ tenantId: t.id, enrollRate: 2, enrollBurst: 10, maxClients: null, requireProof: false });

    const first = Array.from({ length: 10 }, (_, i) => agent(t, i));
    expect((await Promise.all(first.map(attempt))).map((r) => r.code)).toEqual(Array(10).fill('WELCOMED'));
    await Promise.all(first.map((a) => a.close()));

    const refused = agent(t, 0);
    const r = await attempt(refused);
    expect(r).toMatchObject({ code: 'ENROLL_RATE_LIMITED', closeCode: 1013 });
    // At 2 per second a token is back within 500 ms: the hint covers at least that.
    expect(r.retryAfterMs).toBeGreaterThan(0);
    expect(await redis.exists(keys.client(t.id, refused.clientId))).toBe(0);
    expect(await redis.hexists(keys.clientTenant(), refused.clientId)).toBe(0);
    await refused.close();

    // Enrolled agents reconnect with their credential while the bucket is empty.
    const back = new Agent({ url: gws[1]!.url, tenantId: t.id, clientId: first[0]!.clientId, credential: first[0]!.credential!, os: OS.linux, heartbeat: false });
    expect((await attempt(back)).code).toBe('WELCOMED');
    await back.close();

    // An agent that reconnects after the hint is enrolled (the bucket refilled).
    const patient = agent(t, 1, { reconnect: true, backoff: { baseMs: 50, capMs: 200 } });
    patient.connect().catch(() => {});
    await patient.waitFor(() => patient.connected, 15_000);
    expect(patient.credential).toBeTruthy();
    await patient.close();
  }, 60_000);

  it('Z3: maxClients caps a tenant: 300 enrollments racing over two gateways at a cap of 40 register exactly 40, the rest TENANT_CLIENT_LIMIT', async () => {
    const t = await tenant('cap');
    const limits = await setTenantLimits(ledgerContext(redis, keys), TECHNICIAN, t.id, { maxClients: 40 });
    expect(limits).toMatchObject({ maxClients: 40, clients: 0 });
    const agents = Array.from({ length: 300 }, (_, i) => agent(t, i));
    const results = await Promise.all(agents.map(attempt));
    const codes: Record<string, number> = {};
    for (const r of results) codes[r.code] = (codes[r.code] ?? 0) + 1;
    // Every refusal is the cap (never a retryable overload that could hide a bug).
    expect(codes).toEqual({ WELCOMED: 40, TENANT_CLIENT_LIMIT: 260 });
    expect(results.filter((r) => r.code === 'TENANT_CLIENT_LIMIT').every((r) => r.closeCode === 4403)).toBe(true);
    expect(await redis.scard(keys.clients(t.id))).toBe(40);
    // Refused enrollments leave no claim on their client ids behind.
    const refusedIds = agents.filter((_, i) => results[i]!.code !== 'WELCOMED').map((a) => a.clientId);
    const claims = await redis.hmget(keys.clientTenant(), ...refusedIds);
    expect(claims.filter((c) => c !== null)).toEqual([]);
    await Promise.all(agents.map((a) => a.close()));

    // Lifting the cap lets the next one in.
    await setTenantLimits(ledgerContext(redis, keys), TECHNICIAN, t.id, { maxClients: null });
    expect((await attempt(agent(t, 0))).code).toBe('WELCOMED');
    await eventually(async () => (await redis.scard(keys.clients(t.id))) === 41, '41 Clients', 5_000);
  }, 60_000);

  it('Z3: limits are system configuration: a tenant admin cannot lift its own cap', async () => {
    const t = await tenant('own');
    const tenantAdmin = { ...TECHNICIAN, userId: 'tenant-admin', tenantId: t.id };
    await expect(setTenantLimits(ledgerContext(redis, keys), tenantAdmin, t.id, { maxClients: null })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(setTenantLimits(ledgerContext(redis, keys), TECHNICIAN, `${t.id}-missing`, { maxClients: 5 })).rejects.toMatchObject({ code: 'UNKNOWN_TENANT' });
    await expect(setTenantLimits(ledgerContext(redis, keys), TECHNICIAN, t.id, { enrollRate: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
