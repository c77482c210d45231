/**
 * SPEC Z3: failed authentications are audited per tenant, aggregated (one entry per tenant per
 * window, never one per failure, never a secret), and a peer that has not authenticated learns
 * no tenant's or client id's existence (UNKNOWN_TENANT, CLIENT_IN_OTHER_TENANT go out as
 * AUTH_FAILED; the server log keeps the real code). A real `licensegate serve` process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent-sim/agent.ts';
import { readAudit, type AuditEntry } from '../../src/licensing/audit.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { clientId, OS } from '../helpers/agents.ts';
import { eventually, TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, redisEnv, uniquePrefix } from '../helpers/redis.ts';

const WINDOW_MS = 1_000;
const ACME_TOKEN = 'acme-enrollment-token-0001';
const WRONG_TOKEN = 'wrong-token-SECRET-0001';

let redis: RedisClient;
let gw: GatewayProcess;
let keys: Keys;

beforeAll(async () => {
  redis = await connectRedis();
  const prefix = uniquePrefix('ida');
  keys = new Keys(prefix, `{${prefix}}`);
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  await ensureTenant(redis, keys, 'acme', { enrollmentToken: ACME_TOKEN });
  await ensureTenant(redis, keys, 'globex', { enrollmentToken: 'globex-enrollment-token-1' });
  gw = await startGatewayProcess({ ...redisEnv(), KEY_PREFIX: prefix, QUEUE_PREFIX: `{${prefix}}`, ENROLLMENT_TOKEN: TEST_TOKEN, LOG_LEVEL: 'info', AUTH_AUDIT_WINDOW_MS: String(WINDOW_MS),
    // Every peer here is 127.0.0.1: its 60 failures must reach the audit, not the per-address
    // backoff (Z4, tested in test/gateway/abuse-limits.test.ts), which would answer AUTH_BACKOFF.
    AUTH_FAILURES_PER_SOURCE: '1000' });
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  redis?.disconnect();
});

async function refusedWith(a: Agent): Promise<{ code: string; closeCode: number }> {
  const err = (await a.connect().then(() => null, (e: unknown) => e)) as { code?: string } | null;
  await a.waitFor(() => a.lastClose !== null).catch(() => {});
  await a.close();
  return { code: err?.code ?? 'WELCOMED', closeCode: a.lastClose?.code ?? 0 };
}

const failures = async (tenantId: string): Promise<AuditEntry[]> => (await readAudit(ledgerContext(redis, keys), tenantId)).filter((e) => e.action === 'auth-failed');
const counted = (entries: AuditEntry[]) => entries.reduce((n, e) => n + Number(/^(\d+) refused/.exec(e.reason)?.[1] ?? 0), 0);

describe('Z3 refusals before authentication (real gateway process)', () => {
  it('Z3: an unknown tenant and a client id of another tenant are AUTH_FAILED (4401) on the wire; the server log has the real code', async () => {
    const unknown = await refusedWith(new Agent({ url: gw.url, tenantId: 'no-such-tenant', clientId: clientId(), enrollmentToken: TEST_TOKEN, os: OS.windows }));
    expect(unknown).toEqual({ code: 'AUTH_FAILED', closeCode: 4401 });
    const owner = new Agent({ url: gw.url, clientId: clientId('owned'), enrollmentToken: TEST_TOKEN, os: OS.windows });
    await owner.connect();
    await owner.close();
    const other = await refusedWith(new Agent({ url: gw.url, tenantId: 'acme', clientId: owner.clientId, enrollmentToken: ACME_TOKEN, os: OS.windows }));
    expect(other).toEqual({ code: 'AUTH_FAILED', closeCode: 4401 });
    await eventually(() => gw.output().includes('"reason":"UNKNOWN_TENANT"') && gw.output().includes('"reason":"CLIENT_IN_OTHER_TENANT"'), 'real codes in the server log', 10_000);
  });

  it('Z3: 60 failed authentications are audited in a few aggregated entries per tenant, with codes and sources and no secret', async () => {
    const beforeDefault = counted(await failures(DEFAULT_TENANT));
    const wrong = Array.from({ length: 40 }, () => new Agent({ url: gw.url, tenantId: 'globex', clientId: clientId('bad'), enrollmentToken: WRONG_TOKEN, os: OS.windows }));
    const unknown = Array.from({ length: 20 }, (_, i) => new Agent({ url: gw.url, tenantId: `ghost-${i}`, clientId: clientId('bad'), enrollmentToken: WRONG_TOKEN, os: OS.windows }));
    const results = await Promise.all([...wrong, ...unknown].map(refusedWith));
    expect(results.every((r) => r.code === 'AUTH_FAILED')).toBe(true);

    await eventually(async () => counted(await failures('globex')) === 40, '40 failures audited for globex', 15_000);
    await eventually(async () => counted(await failures(DEFAULT_TENANT)) - beforeDefault >= 20, 'unknown-tenant failures audited in the default trail', 15_000);
    const globex = await failures('globex');
    // Aggregated: 40 refusals within a couple of windows are a couple of entries, not 40.
    expect(globex.length).toBeGreaterThanOrEqual(1);
    expect(globex.length).toBeLessThanOrEqual(4);
    for (const e of globex) {
      expect(e).toMatchObject({ actor: 'system', cause: 'hello', holder: '' });
      expect(e.reason).toMatch(/AUTH_FAILED=\d+; sources 127\.0\.0\.1/);
    }
    const raw = await redis.xrange(keys.audit('globex'), '-', '+');
    const fields = raw.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])));
    expect(fields.filter((f) => f.action === 'auth-failed').every((f) => f.sources === '127.0.0.1' && Number(f.count) > 0)).toBe(true);
    // Nobody's secret, and no key for tenants that do not exist.
    expect(JSON.stringify(raw)).not.toContain(WRONG_TOKEN);
    expect(JSON.stringify(await redis.xrange(keys.audit(DEFAULT_TENANT), '-', '+'))).not.toContain(WRONG_TOKEN);
    expect(await redis.exists(keys.audit('ghost-0'), keys.tenant('ghost-0'))).toBe(0);
    expect(gw.output()).not.toContain(WRONG_TOKEN);
  });
});

