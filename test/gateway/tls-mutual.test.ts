/**
 * SPEC Z1, mutual TLS: with TLS_CA_FILE the agent port asks every client for a certificate
 * signed by that CA and refuses the TLS handshake without one, so an agent without a client
 * certificate (or with one from another CA) never reaches the WebSocket or the Hello; with a
 * valid one it is served as usual. The HTTP port stays plain TLS (health probes carry no
 * client certificate). Real `licensegate serve` process, certificates made at test time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientTls } from '../../agent-sim/tls-options.ts';
import { AgentError } from '../../agent-sim/agent.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { clientId, newAgent } from '../helpers/agents.ts';
import { TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, redisEnv, uniquePrefix } from '../helpers/redis.ts';
import { createTestPki, httpsGetJson, tlsEnv, tlsProbe, type TestPki } from '../helpers/test-certs.ts';

let pki: TestPki;
let other: TestPki;
let redis: RedisClient;
let keys: Keys;
let gw: GatewayProcess;

beforeAll(async () => {
  pki = createTestPki('lg-mtls');
  other = createTestPki('lg-mtls-other');
  redis = await connectRedis();
  const prefix = uniquePrefix('mtls');
  keys = new Keys(prefix, `{${prefix}}`);
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  await activatePool(ledgerContext(redis, keys), { workstation: 10 });
  gw = await startGatewayProcess({ ...redisEnv(), KEY_PREFIX: prefix, QUEUE_PREFIX: `{${prefix}}`, ENROLLMENT_TOKEN: TEST_TOKEN, ...tlsEnv(pki.server('gw-m', 0x2b2), pki.ca) });
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  redis?.disconnect();
  pki?.remove();
  other?.remove();
});

const portOf = (url: string) => Number(new URL(url).port);

/** connect() of a fresh agent: its Welcome, or the code it failed with. */
async function tryAgent(tls: ReturnType<typeof clientTls>, id: string): Promise<{ licensed: boolean } | { failed: string }> {
  const agent = newAgent(gw.url, { clientId: id, tls, handshakeTimeoutMs: 5_000 });
  agent.on('error', () => {});
  try {
    const welcome = await agent.connect();
    await agent.close();
    return { licensed: welcome.license.licensed };
  } catch (err) {
    return { failed: err instanceof AgentError ? err.code : String(err) };
  }
}

describe('mutual TLS (SPEC Z1, TLS_CA_FILE)', () => {
  it('Z1: a client without a certificate is refused in the TLS handshake and never registered', async () => {
    const id = clientId('nocert');
    expect(await tryAgent(clientTls({ caFile: pki.ca }), id)).toEqual({ failed: 'CONNECTION_CLOSED' });
    const probe = await tlsProbe(portOf(gw.url), { ca: pki.ca });
    expect(probe.ok).toBe(false);
    expect(probe.error).toMatch(/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|ECONNRESET|CLOSED/);
    expect(await redis.sismember(keys.clients(DEFAULT_TENANT), id)).toBe(0);
  });

  it('Z1: a client certificate from another CA is refused as well', async () => {
    const id = clientId('othercert');
    const stranger = other.client('stranger');
    expect(await tryAgent(clientTls({ caFile: pki.ca, certFile: stranger.cert, keyFile: stranger.key }), id)).toEqual({ failed: 'CONNECTION_CLOSED' });
    const probe = await tlsProbe(portOf(gw.url), { ca: pki.ca, client: stranger });
    expect(probe.ok).toBe(false);
    expect(await redis.sismember(keys.clients(DEFAULT_TENANT), id)).toBe(0);
  });

  it('Z1: a client with a certificate from TLS_CA_FILE is served (enrolled and licensed)', async () => {
    const id = clientId('withcert');
    const mine = pki.client('agent-1');
    expect(await tryAgent(clientTls({ caFile: pki.ca, certFile: mine.cert, keyFile: mine.key }), id)).toEqual({ licensed: true });
    expect(await tlsProbe(portOf(gw.url), { ca: pki.ca, client: mine })).toMatchObject({ ok: true, subjectCn: 'gw-m' });
    expect(await redis.sismember(keys.clients(DEFAULT_TENANT), id)).toBe(1);
  });

  it('Z1: the HTTP port serves https:// health without a client certificate', async () => {
    expect(await httpsGetJson(`${gw.healthUrl}/healthz`, pki.ca)).toEqual({ status: 200, body: { status: 'ok' } });
  });
});
