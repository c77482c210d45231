/**
 * SPEC Z1, certificate reload without a restart: a spawned `licensegate serve` serving cert A
 * holds N live agents over wss://; the files are replaced with cert B (other subject and
 * serial) and the process gets SIGHUP. New TLS handshakes then see B, on both ports, while the
 * N agents stay connected the whole time (no close event) and keep heartbeating. A broken file
 * (or a key that does not match) on a later SIGHUP is logged with its code and the certificate
 * in use stays.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { clientTls } from '../../agent-sim/tls-options.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { newAgent } from '../helpers/agents.ts';
import { eventually, TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, redisEnv, uniquePrefix } from '../helpers/redis.ts';
import { createTestPki, tlsEnv, tlsProbe, type CertFiles, type TestPki } from '../helpers/test-certs.ts';

const N = 20;
let pki: TestPki;
let redis: RedisClient;
let env: Record<string, string>;
let live: CertFiles;

beforeAll(async () => {
  pki = createTestPki('lg-tls-reload');
  redis = await connectRedis();
  const prefix = uniquePrefix('tlsr');
  const keys = new Keys(prefix, `{${prefix}}`);
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  await activatePool(ledgerContext(redis, keys), { workstation: N + 10 });
  live = { cert: join(pki.dir, 'live.pem'), key: join(pki.dir, 'live.key') };
  // LOG_LEVEL info: the reload lines are asserted on.
  env = { ...redisEnv(), KEY_PREFIX: prefix, QUEUE_PREFIX: `{${prefix}}`, ENROLLMENT_TOKEN: TEST_TOKEN, HEARTBEAT_INTERVAL_MS: '500', LOG_LEVEL: 'info' };
}, 30_000);

afterAll(() => {
  redis?.disconnect();
  pki?.remove();
});

const portOf = (url: string) => Number(new URL(url).port);
const install = (from: CertFiles) => {
  copyFileSync(from.cert, live.cert);
  copyFileSync(from.key, live.key);
};
const servedSerial = async (port: number) => (await tlsProbe(port, { ca: pki.ca })).serial;

describe('TLS certificate reload on SIGHUP (SPEC Z1)', () => {
  it('Z1: SIGHUP swaps cert A for cert B for new handshakes while N live agents stay connected and heartbeating; a broken file keeps B', async () => {
    const certA = pki.server('gw-a', 0xa1);
    const certB = pki.server('gw-b', 0xb2);
    install(certA);
    const gw: GatewayProcess = await startGatewayProcess({ ...env, ...tlsEnv(live) });
    const agents: Agent[] = [];
    try {
      const tls = clientTls({ caFile: pki.ca });
      let closes = 0;
      const acks = new Map<Agent, number>();
      for (let i = 0; i < N; i++) {
        const agent = newAgent(gw.url, { tls });
        agent.on('close', () => closes++);
        agent.on('heartbeat-ack', () => acks.set(agent, (acks.get(agent) ?? 0) + 1));
        agents.push(agent);
      }
      await Promise.all(agents.map((a) => a.connect()));
      expect(await servedSerial(portOf(gw.url))).toBe('A1');

      install(certB);
      gw.signal('SIGHUP');
      // Bounded: a new handshake sees B once the process has handled the signal.
      await eventually(async () => (await servedSerial(portOf(gw.url))) === 'B2', 'a new TLS connection sees cert B', 10_000, 100);
      expect(await servedSerial(portOf(gw.healthUrl))).toBe('B2');
      await eventually(() => gw.output().includes('tls certificate reloaded'), 'the reload log line', 5_000);
      const reloaded = gw.output().split('\n').find((l) => l.includes('tls certificate reloaded'))!;
      expect(JSON.parse(reloaded)).toMatchObject({ subject: 'CN=gw-b', serial: 'B2', validTo: expect.stringMatching(/^\d{4}-/) });

      // The agents connected under A are still there and still served: fresh heartbeat acks.
      const before = new Map(acks);
      await eventually(() => agents.every((a) => (acks.get(a) ?? 0) >= (before.get(a) ?? 0) + 2), 'two more heartbeat acks on every agent', 10_000);
      expect(agents.every((a) => a.connected)).toBe(true);
      expect(closes).toBe(0);

      // A broken certificate file: logged with its code, B stays.
      writeFileSync(live.cert, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
      gw.signal('SIGHUP');
      await eventually(() => gw.output().includes('tls certificate reload failed'), 'the failed reload logged', 10_000);
      expect(gw.output()).toMatch(/"code":"TLS_INVALID".*TLS_CERT_FILE.*tls certificate reload failed/);
      expect(await servedSerial(portOf(gw.url))).toBe('B2');

      // A certificate with somebody else's key: refused the same way, B stays.
      copyFileSync(certA.cert, live.cert); // live.key is still B's
      const failedSoFar = gw.output().split('tls certificate reload failed').length;
      gw.signal('SIGHUP');
      await eventually(() => gw.output().split('tls certificate reload failed').length > failedSoFar, 'the mismatched key logged', 10_000);
      expect(gw.output()).toMatch(/is not the key of the certificate/);
      expect(await servedSerial(portOf(gw.url))).toBe('B2');

      // Still serving old and new agents; nothing closed through any of it.
      const late = newAgent(gw.url, { tls });
      expect((await late.connect()).license.licensed).toBe(true);
      await late.close();
      expect(agents.every((a) => a.connected)).toBe(true);
      expect(closes).toBe(0);
      // Public facts only: no key material in anything the process wrote.
      expect(gw.output()).not.toMatch(/PRIVATE KEY/);
    } finally {
      await Promise.all(agents.map((a) => a.close().catch(() => {})));
      await gw.stop();
    }
  }, 60_000);

  it('Z1: SIGHUP to a gateway without TLS is logged and changes nothing (the process keeps serving)', async () => {
    const gw = await startGatewayProcess(env);
    try {
      gw.signal('SIGHUP');
      await eventually(() => gw.output().includes('nothing to reload'), 'the SIGHUP logged', 10_000);
      const agent = newAgent(gw.url);
      expect((await agent.connect()).license.licensed).toBe(true);
      await agent.close();
      expect(gw.child.exitCode).toBeNull();
    } finally {
      await gw.stop();
    }
  }, 30_000);
});
