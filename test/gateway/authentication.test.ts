import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { Agent } from '../../agent-sim/agent.ts';
import { clientId, newAgent, OS } from '../helpers/agents.ts';
import { eventually, QUIET_NODE, startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.ts';
import { snapshot } from '../helpers/snapshot.ts';

let gw: TestGateway;
let registered: Agent;
beforeAll(async () => {
  // The failed-auth audit (Z3, test/auth/identity-audit.test.ts) writes after the file ends, not inside a snapshot comparison.
  gw = await startTestGateway({ pool: { workstation: 5 }, gateway: { ...QUIET_NODE, authAuditWindowMs: 3_600_000 } });
  await ensureTenant(gw.redis, gw.keys, 'acme', { enrollmentToken: 'acme-enrollment-token-01' });
  registered = newAgent(gw.url);
  await registered.connect();
  // A frame after the Welcome: the agent has its credential (confirmed).
  await heartbeatRoundTrip(registered);
  await registered.close();
  // Its disconnect is recorded before any test snapshots the state.
  await eventually(async () => (await gw.redis.hexists(gw.keys.online('default'), registered.clientId)) === 0, 'registered agent offline');
});
afterAll(() => gw.stop());

/** Sends a Heartbeat and waits for its HeartbeatAck. */
async function heartbeatRoundTrip(agent: Agent): Promise<void> {
  const acked = new Promise<void>((resolve) => agent.once('heartbeat-ack', () => resolve()));
  agent.sendHeartbeat();
  await acked;
}

/** Connects, expects a refusal with `code` and `closeCode`, and proves Redis is unchanged. */
async function expectRefused(agent: Agent, code: string, closeCode: number): Promise<void> {
  const before = await snapshot(gw.redis, gw.keys.prefix);
  await expect(agent.connect()).rejects.toMatchObject({ code });
  await agent.waitFor(() => agent.lastClose !== null);
  expect(agent.lastError?.code).toBe(code);
  expect(agent.lastClose?.code).toBe(closeCode);
  expect(await snapshot(gw.redis, gw.keys.prefix)).toEqual(before);
}

describe('authentication refusals change nothing', () => {
  it('C2: a wrong enrollment token is AUTH_FAILED (4401)', async () => {
    await expectRefused(newAgent(gw.url, { enrollmentToken: 'wrong-token-wrong-token' }), 'AUTH_FAILED', 4401);
  });

  it('C2: a wrong credential is AUTH_FAILED (4401)', async () => {
    await expectRefused(new Agent({ url: gw.url, clientId: registered.clientId, credential: 'not-the-credential', os: OS.windows }), 'AUTH_FAILED', 4401);
  });

  it('C2: a credential for a client id that was never registered is AUTH_FAILED', async () => {
    await expectRefused(new Agent({ url: gw.url, clientId: clientId(), credential: registered.credential!, os: OS.windows }), 'AUTH_FAILED', 4401);
  });

  it('C2 Z3: an unknown tenant is AUTH_FAILED (4401) on the wire: an unauthenticated peer learns no tenant exists', async () => {
    await expectRefused(newAgent(gw.url, { tenantId: 'no-such-tenant' }), 'AUTH_FAILED', 4401);
  });

  it('C2: enrolling a registered client id again by token is CLIENT_ALREADY_REGISTERED (a takeover)', async () => {
    await expectRefused(newAgent(gw.url, { clientId: registered.clientId }), 'CLIENT_ALREADY_REGISTERED', 4409);
  });

  it('C2: enrolling a client id whose registering connection is still open and silent is ENROLLMENT_PENDING, with a retry hint', async () => {
    const first = newAgent(gw.url, { heartbeat: false });
    await first.connect();
    const rival = newAgent(gw.url, { clientId: first.clientId });
    await expectRefused(rival, 'ENROLLMENT_PENDING', 1013);
    expect(rival.lastError!.retryAfterMs).toBeGreaterThan(0);
    // Its first frame confirms the credential: from then on it is CLIENT_ALREADY_REGISTERED.
    await heartbeatRoundTrip(first);
    await expect.poll(() => gw.redis.hget(gw.keys.client('default', first.clientId), 'confirmed')).toBe('1');
    await expectRefused(newAgent(gw.url, { clientId: first.clientId }), 'CLIENT_ALREADY_REGISTERED', 4409);
    await first.close();
    await eventually(async () => (await gw.redis.hexists(gw.keys.online('default'), first.clientId)) === 0, 'first recorded offline');
  });

  it('C2 T6 Z3: a client id registered in another tenant is AUTH_FAILED (4401) on the wire, with or without that tenant\'s token', async () => {
    await expectRefused(newAgent(gw.url, { clientId: registered.clientId, tenantId: 'acme', enrollmentToken: 'acme-enrollment-token-01' }), 'AUTH_FAILED', 4401);
    await expectRefused(newAgent(gw.url, { clientId: registered.clientId, tenantId: 'acme', enrollmentToken: 'not-the-acme-token-xx' }), 'AUTH_FAILED', 4401);
  });

  it('C2 T6: a tenant token does not enroll into another tenant', async () => {
    await expectRefused(newAgent(gw.url, { tenantId: 'acme', enrollmentToken: TEST_TOKEN }), 'AUTH_FAILED', 4401);
  });

  it('C2 C8: an uninstalled Client cannot come back, by credential or by token', async () => {
    const agent = newAgent(gw.url);
    await agent.connect();
    agent.sendUninstallNotice();
    await agent.waitFor(() => agent.lastClose !== null);
    expect(agent.lastError?.code).toBe('UNINSTALLED');
    expect(await gw.redis.hget(gw.keys.client('default', agent.clientId), 'status')).toBe('uninstalled');
    expect(await gw.redis.sismember(gw.keys.holders('default', 'workstation'), agent.clientId)).toBe(0);
    await expectRefused(new Agent({ url: gw.url, clientId: agent.clientId, credential: agent.credential!, os: OS.windows }), 'CLIENT_UNINSTALLED', 4410);
    await expectRefused(newAgent(gw.url, { clientId: agent.clientId }), 'CLIENT_UNINSTALLED', 4410);
  });

  it('C2: the credential is stored only as a hash', async () => {
    const stored = await gw.redis.hgetall(gw.keys.client('default', registered.clientId));
    expect(Object.values(stored)).not.toContain(registered.credential);
    expect(stored.credHash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('lost Welcome', () => {
  it('C2: an agent whose first Welcome was lost enrolls again; once it used its credential it cannot', async () => {
    const id = `lost-${Date.now()}`;
    const holdersBefore = await gw.redis.scard(gw.keys.holders('default', 'workstation'));
    // Enroll, then drop the connection without ever reading or answering the Welcome.
    const first = newAgent(gw.url, { clientId: id, autoAck: false, heartbeat: false });
    await first.connect();
    first.terminate();
    await eventually(async () => (await gw.redis.hexists(gw.keys.online('default'), id)) === 0, 'the dropped connection is recorded offline');
    const again = newAgent(gw.url, { clientId: id });
    const welcome = await again.connect();
    expect(welcome.clientCredential).toBeTruthy();
    expect(welcome.clientCredential).not.toBe(first.credential);
    expect(welcome.license.licensed).toBe(true);
    expect(await gw.redis.scard(gw.keys.holders('default', 'workstation'))).toBe(holdersBefore + 1); // same Client, no second license
    // A frame after the Welcome confirms the credential.
    await heartbeatRoundTrip(again);
    await expect.poll(() => gw.redis.hget(gw.keys.client('default', id), 'confirmed')).toBe('1');
    await again.close();
    await expect(new Agent({ url: gw.url, clientId: id, credential: first.credential!, os: OS.windows }).connect()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await expect.poll(() => gw.redis.hget(gw.keys.client('default', id), 'confirmed')).toBe('1');
    await expectRefused(newAgent(gw.url, { clientId: id }), 'CLIENT_ALREADY_REGISTERED', 4409);
  });
});
