/**
 * Enrollment tokens are stored only as hashes (SPEC Z2): what a tenant hash holds, what
 * ensureTenant hands back, and the start-up migration that removes an older version's
 * cleartext field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/secrets.ts';
import { removeCleartextTokens } from '../../src/licensing/enrollment-tokens.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { createTenant, ensureTenant, listTenants } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { startTestAdmin, type TestAdmin } from '../helpers/admin.ts';
import { QUIET_NODE, startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.ts';
import { activatePool } from '../helpers/ledger.ts';
import { newKeys } from '../helpers/redis.ts';
import { snapshot } from '../helpers/snapshot.ts';

let gw: TestGateway;
let admin: TestAdmin;
beforeAll(async () => {
  gw = await startTestGateway({ gateway: { heartbeatIntervalMs: 60_000, ...QUIET_NODE } });
  await activatePool(gw.ctx, { workstation: 10 }, { multiTenant: true });
  admin = await startTestAdmin(gw.ctx);
});
afterAll(async () => {
  await admin.stop();
  await gw.stop();
});

/** Every value stored under the deployment's key prefix and its queue prefix, as one string. */
async function everythingStored(): Promise<string> {
  return JSON.stringify([await snapshot(gw.redis, gw.keys.prefix), await snapshot(gw.redis, gw.keys.queuePrefix)]);
}

describe('enrollment tokens stored only as hashes', () => {
  it('Z2: a tenant created through the admin job keeps only the token hash; no key holds the cleartext (HGETALL, job data, results)', async () => {
    const acme = await admin.admin.createTenant({ name: 'Hash Only' });
    expect(acme.enrollmentToken).toMatch(/^lgt_[A-Za-z0-9_-]{32}$/);
    const h = await gw.redis.hgetall(gw.keys.tenant(acme.id));
    expect(h).toEqual({ name: 'Hash Only', createdAt: expect.any(String), enrollTokenHash: hashSecret(acme.enrollmentToken) });
    expect(await everythingStored()).not.toContain(acme.enrollmentToken);
    // The token shown once works.
    const agent = newAgent(gw.url, { tenantId: acme.id, enrollmentToken: acme.enrollmentToken, os: OS.windows });
    await agent.connect();
    await agent.close();
    // The list never shows a token.
    expect(JSON.stringify(await listTenants(gw.ctx))).not.toContain(acme.enrollmentToken);
    expect((await listTenants(gw.ctx)).find((t) => t.id === acme.id)).toEqual({ id: acme.id, name: 'Hash Only', createdAt: expect.any(Number) });
  });

  it('Z2: createTenant called directly makes a token, returns it, and stores only its hash', async () => {
    const t = await createTenant(gw.ctx, TECHNICIAN, 'Direct Made');
    expect(t.enrollmentToken).toMatch(/^lgt_/);
    expect(await gw.redis.hgetall(gw.keys.tenant(t.id))).not.toHaveProperty('enrollToken');
    expect(await gw.redis.hget(gw.keys.tenant(t.id), 'enrollTokenHash')).toBe(hashSecret(t.enrollmentToken));
  });

  it('Z2: a plain BullMQ tenant.create without a hash gets a result with no token (results stay in Redis); rotateToken then gives one', async () => {
    const r = await admin.admin.run<'tenant.create', { id: string; enrollmentToken: string }>('tenant.create', { name: 'Plain Job' });
    expect(r.enrollmentToken).toBe('');
    const h = await gw.redis.hgetall(gw.keys.tenant(r.id));
    expect(h.enrollTokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(h).not.toHaveProperty('enrollToken');
    const rotated = await admin.admin.rotateToken({ tenantId: r.id });
    const agent = newAgent(gw.url, { tenantId: r.id, enrollmentToken: rotated.enrollmentToken, os: OS.windows });
    await agent.connect();
    await agent.close();
  });

  it('Z2: ensureTenant returns a token only when it made one or was given one', async () => {
    const keys = newKeys('ensure');
    const made = await ensureTenant(gw.redis, keys, DEFAULT_TENANT);
    expect(made).toMatch(/^lgt_/);
    expect(await ensureTenant(gw.redis, keys, DEFAULT_TENANT)).toBeUndefined();
    expect(await gw.redis.hgetall(keys.tenant(DEFAULT_TENANT))).toEqual({ name: DEFAULT_TENANT, createdAt: expect.any(String), enrollTokenHash: hashSecret(made!) });
    // ENROLLMENT_TOKEN replaces it; it is handed back (the caller gave it) and stored as a hash.
    expect(await ensureTenant(gw.redis, keys, DEFAULT_TENANT, { enrollmentToken: 'given-token-0123456789' })).toBe('given-token-0123456789');
    expect(await gw.redis.hgetall(keys.tenant(DEFAULT_TENANT))).toEqual({ name: DEFAULT_TENANT, createdAt: expect.any(String), enrollTokenHash: hashSecret('given-token-0123456789') });
    // Two processes racing for a new tenant: exactly one gets the token, and it is the stored one.
    const race = newKeys('ensure-race');
    const got = (await Promise.all(Array.from({ length: 8 }, () => ensureTenant(gw.redis, race, DEFAULT_TENANT)))).filter((t) => t !== undefined);
    expect(got).toHaveLength(1);
    expect(await gw.redis.hget(race.tenant(DEFAULT_TENANT), 'enrollTokenHash')).toBe(hashSecret(got[0]!));
  });

  it('Z2: the start-up migration removes the cleartext token of existing tenants, keeps their hash, counts them, and is idempotent', async () => {
    const legacy = await admin.admin.createTenant({ name: 'Legacy Co' });
    // What a version before issue 11 stored: the token next to its hash (and the default tenant the same).
    await gw.redis.hset(gw.keys.tenant(legacy.id), 'enrollToken', legacy.enrollmentToken);
    await gw.redis.hset(gw.keys.tenant(DEFAULT_TENANT), 'enrollToken', TEST_TOKEN);
    // A tenant whose hash field is missing gets it from the cleartext before that goes.
    const noHash = await admin.admin.createTenant({ name: 'No Hash Co' });
    await gw.redis.hdel(gw.keys.tenant(noHash.id), 'enrollTokenHash');
    await gw.redis.hset(gw.keys.tenant(noHash.id), 'enrollToken', noHash.enrollmentToken);

    const logged: unknown[] = [];
    const logger = { info: (o: unknown) => logged.push(o) } as unknown as Parameters<typeof removeCleartextTokens>[2];
    expect(await removeCleartextTokens(gw.redis, gw.keys, logger)).toBe(3);
    expect(logged).toEqual([{ tenants: 3 }]);
    for (const [id, token] of [[legacy.id, legacy.enrollmentToken], [noHash.id, noHash.enrollmentToken], [DEFAULT_TENANT, TEST_TOKEN]] as const) {
      const h = await gw.redis.hgetall(gw.keys.tenant(id));
      expect(h).not.toHaveProperty('enrollToken');
      expect(h.enrollTokenHash).toBe(hashSecret(token));
    }
    expect(await everythingStored()).not.toContain(legacy.enrollmentToken);
    expect(await removeCleartextTokens(gw.redis, gw.keys, logger)).toBe(0);
    expect(logged).toHaveLength(1);
    // Agents still enroll with the tokens they were given.
    for (const [tenantId, token] of [[legacy.id, legacy.enrollmentToken], [noHash.id, noHash.enrollmentToken]]) {
      const agent = newAgent(gw.url, { tenantId, enrollmentToken: token, os: OS.windows });
      await agent.connect();
      await agent.close();
    }
  });
});
