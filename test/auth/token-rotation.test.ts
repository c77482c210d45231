/**
 * `tenants rotate-token` as an admin job (SPEC Z2, T6): a new token, the old one enrolling
 * until the grace ends, audited without the secret, refused to other tenants' admins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/admin/client.ts';
import { hashSecret } from '../../src/auth/secrets.ts';
import { readAudit } from '../../src/licensing/audit.ts';
import { PERMISSIONS, TECHNICIAN, type Actor } from '../../src/licensing/permissions.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { startTestAdmin, type TestAdmin } from '../helpers/admin.ts';
import { eventually, QUIET_NODE, startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.ts';
import { activatePool } from '../helpers/ledger.ts';
import { redisTarget } from '../helpers/redis.ts';
import { snapshot } from '../helpers/snapshot.ts';

let gw: TestGateway;
let admin: TestAdmin;
beforeAll(async () => {
  gw = await startTestGateway({ gateway: { heartbeatIntervalMs: 60_000, ...QUIET_NODE } });
  await activatePool(gw.ctx, { workstation: 50 }, { multiTenant: true });
  admin = await startTestAdmin(gw.ctx);
});
afterAll(async () => {
  await admin.stop();
  await gw.stop();
});

/** Enrolls a new Client with `token`; resolves with the refusal code, or 'OK'. */
async function enroll(tenantId: string, token: string): Promise<string> {
  const agent = newAgent(gw.url, { tenantId, enrollmentToken: token, os: OS.windows });
  try {
    await agent.connect();
    return 'OK';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  } finally {
    await agent.close();
  }
}

describe('enrollment token rotation', () => {
  it('Z2: with no grace the old token dies at once and the new one enrolls; only hashes are stored', async () => {
    const t = await admin.admin.createTenant({ name: 'Rotate Now' });
    expect(await enroll(t.id, t.enrollmentToken)).toBe('OK');
    const r = await admin.admin.rotateToken({ tenantId: t.id });
    expect(r).toEqual({ tenantId: t.id, rotatedAt: expect.any(Number), previousValidUntil: r.rotatedAt, enrollmentToken: expect.stringMatching(/^lgt_/) });
    expect(r.enrollmentToken).not.toBe(t.enrollmentToken);
    expect(await enroll(t.id, t.enrollmentToken)).toBe('AUTH_FAILED');
    expect(await enroll(t.id, r.enrollmentToken)).toBe('OK');
    const h = await gw.redis.hgetall(gw.keys.tenant(t.id));
    expect(h.enrollTokenHash).toBe(hashSecret(r.enrollmentToken));
    expect(h).not.toHaveProperty('prevEnrollTokenHash');
    const stored = JSON.stringify([await snapshot(gw.redis, gw.keys.prefix), await snapshot(gw.redis, gw.keys.queuePrefix)]);
    expect(stored).not.toContain(r.enrollmentToken);
    expect(stored).not.toContain(t.enrollmentToken);
  });

  it('Z2: during the grace both tokens enroll; after it the old one gets AUTH_FAILED and the new one still enrolls', async () => {
    const t = await admin.admin.createTenant({ name: 'Rotate Grace' });
    const r = await admin.admin.rotateToken({ tenantId: t.id, graceSeconds: 3 });
    expect(r.previousValidUntil - r.rotatedAt).toBe(3_000);
    expect(await gw.redis.hgetall(gw.keys.tenant(t.id))).toMatchObject({
      enrollTokenHash: hashSecret(r.enrollmentToken),
      prevEnrollTokenHash: hashSecret(t.enrollmentToken),
      prevEnrollTokenUntil: String(r.previousValidUntil),
    });
    // Within the grace (checked against its end, not assumed from elapsed time).
    const old = await enroll(t.id, t.enrollmentToken);
    if (Date.now() < r.previousValidUntil - 200) expect(old).toBe('OK');
    expect(await enroll(t.id, r.enrollmentToken)).toBe('OK');
    // After it: refused, with nothing changed by the refusal.
    await eventually(() => Date.now() > r.previousValidUntil + 50, 'grace over', 10_000, 100);
    await eventually(async () => (await enroll(t.id, t.enrollmentToken)) === 'AUTH_FAILED', 'old token refused after the grace', 10_000, 200);
    expect(await enroll(t.id, r.enrollmentToken)).toBe('OK');
  });

  it('Z2 A5: each rotation is audited with actor and grace, never the token or its hash', async () => {
    const t = await admin.admin.createTenant({ name: 'Rotate Audit' });
    const r = await admin.admin.rotateToken({ tenantId: t.id, graceSeconds: 60 });
    const entries = await readAudit(gw.ctx, t.id);
    expect(entries).toEqual([expect.objectContaining({ action: 'enroll-token-rotated', actor: TECHNICIAN.userId, reason: 'grace 60000 ms', cause: expect.stringMatching(/^job:/) })]);
    const text = JSON.stringify(entries);
    for (const secret of [r.enrollmentToken, t.enrollmentToken, hashSecret(r.enrollmentToken), hashSecret(t.enrollmentToken)]) expect(text).not.toContain(secret);
  });

  it('Z2 T6: a tenant admin rotates its own token, not another tenant\'s; unknown tenants and bad graces are refused', async () => {
    const mine = await admin.admin.createTenant({ name: 'Own Admin' });
    const other = await admin.admin.createTenant({ name: 'Other Tenant' });
    const own: Actor = { userId: 'olga', tenantId: mine.id, permissions: [PERMISSIONS.clients] };
    const r = await admin.admin.rotateToken({ tenantId: mine.id, actor: own });
    expect(await enroll(mine.id, r.enrollmentToken)).toBe('OK');
    const before = await gw.redis.hgetall(gw.keys.tenant(other.id));
    await expect(admin.admin.rotateToken({ tenantId: other.id, actor: own })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(admin.admin.rotateToken({ tenantId: mine.id, actor: { ...own, permissions: [PERMISSIONS.licenses] } })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await gw.redis.hgetall(gw.keys.tenant(other.id))).toEqual(before);
    expect(await enroll(other.id, other.enrollmentToken)).toBe('OK');
    await expect(admin.admin.rotateToken({ tenantId: 'no-such-tenant' })).rejects.toMatchObject({ code: 'UNKNOWN_TENANT' });
    await expect(admin.admin.rotateToken({ tenantId: mine.id, graceSeconds: 31 * 86_400 })).rejects.toMatchObject({ code: 'INVALID_JOB' });
    await expect(admin.admin.rotateToken({ tenantId: mine.id, graceSeconds: -1 })).rejects.toMatchObject({ code: 'INVALID_JOB' });
    // A job carrying a cleartext token where the hash belongs is refused by the contract.
    await expect(admin.admin.run('tenant.rotateToken', { tenantId: mine.id, enrollTokenHash: 'lgt_cleartext-token-not-a-hash' })).rejects.toMatchObject({ code: 'INVALID_JOB' });
  });

  it('Z2 A3: a repeated rotation job (same idempotency key) rotates once and returns the first result', async () => {
    const t = await admin.admin.createTenant({ name: 'Rotate Once' });
    const hash = hashSecret('lgt_chosen-by-the-admin-service-0001');
    const first = await admin.admin.run('tenant.rotateToken', { tenantId: t.id, enrollTokenHash: hash, graceSeconds: 60, idempotencyKey: `rot-${t.id}` });
    const again = await admin.admin.run('tenant.rotateToken', { tenantId: t.id, enrollTokenHash: hash, graceSeconds: 60, idempotencyKey: `rot-${t.id}` });
    expect(again).toEqual(first);
    // The previous token is still the one created with the tenant (not the rotated one).
    expect(await gw.redis.hget(gw.keys.tenant(t.id), 'prevEnrollTokenHash')).toBe(hashSecret(t.enrollmentToken));
    expect(await enroll(t.id, 'lgt_chosen-by-the-admin-service-0001')).toBe('OK');
  });

  it('Z2 A3: an AdminClient call repeated with the same idempotency key returns no token (the first call showed it); the first token stays valid', async () => {
    const t = await admin.admin.createTenant({ name: 'Repeat Create', idempotencyKey: 'repeat-create-z2' });
    const again = await admin.admin.createTenant({ name: 'Repeat Create', idempotencyKey: 'repeat-create-z2' });
    expect(again).toEqual({ ...t, enrollmentToken: '' });
    const r = await admin.admin.rotateToken({ tenantId: t.id, idempotencyKey: 'repeat-rotate-z2' });
    expect(r.enrollmentToken).toMatch(/^lgt_/);
    const r2 = await admin.admin.rotateToken({ tenantId: t.id, idempotencyKey: 'repeat-rotate-z2' });
    expect(r2).toEqual({ ...r, enrollmentToken: '' });
    expect(await enroll(t.id, r.enrollmentToken)).toBe('OK');
  });

  it('Z2: the default tenant rotates too, and an AdminClient of its own (as an admin service) gets the token', async () => {
    const service = new AdminClient({ connection: redisTarget(), prefix: gw.keys.queuePrefix, actor: TECHNICIAN, timeoutMs: 10_000 });
    try {
      const r = await service.rotateToken({ tenantId: DEFAULT_TENANT, graceSeconds: 600 });
      expect(await enroll(DEFAULT_TENANT, r.enrollmentToken)).toBe('OK');
      expect(await enroll(DEFAULT_TENANT, TEST_TOKEN)).toBe('OK');
    } finally {
      await service.close();
    }
  });
});
