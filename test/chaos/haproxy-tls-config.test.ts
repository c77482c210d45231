/**
 * Z1 X2: deploy/haproxy-tls.cfg — TLS ended at HAProxy. The shipped file is valid for the
 * installed HAProxy (`haproxy -c`, with a certificate made at test time), it differs from
 * deploy/haproxy.cfg only in its TLS lines (the backend is the same), and it works: an agent
 * that trusts the CA enrolls over wss:// through HAProxy to a plain ws:// gateway process;
 * plain ws:// to HAProxy's TLS port gets nowhere.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientTls } from '../../agent-sim/tls-options.ts';
import { findHaproxy, HAPROXY_CONFIG, renderHaproxyConfig } from '../../chaos/lib/haproxy.ts';
import { freePort } from '../../src/net/free-port.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { newAgent } from '../helpers/agents.ts';
import { eventually, TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess } from '../helpers/gateway-process.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, redisEnv, uniquePrefix } from '../helpers/redis.ts';
import { createTestPki, tlsProbe, type TestPki } from '../helpers/test-certs.ts';

const TLS_CONFIG = join(import.meta.dirname, '../../deploy/haproxy-tls.cfg');
let pki: TestPki;
/** HAProxy's one-file PEM: certificate then key. */
let combined: string;

beforeAll(() => {
  pki = createTestPki('lg-haproxy-tls');
  const cert = pki.server('lb.example', 0x3c3);
  combined = join(pki.dir, 'licensegate.pem');
  writeFileSync(combined, readFileSync(cert.cert, 'utf8') + readFileSync(cert.key, 'utf8'), { mode: 0o600 });
});
afterAll(() => pki?.remove());

/** A section's directives (comments left out), from its first line to the blank line that ends it. */
const section = (text: string, start: string) => {
  const from = text.indexOf(start);
  const lines = text.slice(from, text.indexOf('\n\n', from + 1)).split('\n');
  return lines.filter((l) => !l.trim().startsWith('#')).join('\n');
};

describe('deploy/haproxy-tls.cfg (TLS ended at HAProxy)', () => {
  it('Z1 X2: the shipped file is valid with a certificate in LG_TLS_CRT', () => {
    const out = execFileSync(findHaproxy(), ['-c', '-f', TLS_CONFIG], { encoding: 'utf8', env: { ...process.env, LG_TLS_CRT: combined }, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toMatch(/Configuration file is valid/);
  });

  it('Z1 X2: it is deploy/haproxy.cfg with TLS on the agents\' bind: same defaults and backend directives, TLS 1.2 floor', () => {
    const tls = readFileSync(TLS_CONFIG, 'utf8');
    const plain = readFileSync(HAPROXY_CONFIG, 'utf8');
    expect(section(plain, '\nbackend gateways\n')).toMatch(/balance[\s\S]*server gw1/);
    expect(section(plain, '\ndefaults\n')).toMatch(/timeout tunnel/);
    expect(section(tls, '\nbackend gateways\n')).toBe(section(plain, '\nbackend gateways\n'));
    expect(section(tls, '\ndefaults\n')).toBe(section(plain, '\ndefaults\n'));
    expect(tls).toMatch(/^\s*bind "\$\{LG_AGENTS_BIND-:443\}" ssl crt "\$\{LG_TLS_CRT-[^"]+\}" alpn http\/1\.1$/m);
    expect(tls).toMatch(/^\s*ssl-default-bind-options ssl-min-ver TLSv1\.2/m);
  });

  it('Z1 X2: an agent trusting the CA enrolls over wss:// through HAProxy to a ws:// gateway; plain ws:// to HAProxy fails', async () => {
    const redis: RedisClient = await connectRedis();
    const prefix = uniquePrefix('hatls');
    const keys = new Keys(prefix, `{${prefix}}`);
    await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
    await activatePool(ledgerContext(redis, keys), { workstation: 5 });
    const gw = await startGatewayProcess({ ...redisEnv(), KEY_PREFIX: prefix, QUEUE_PREFIX: `{${prefix}}`, ENROLLMENT_TOKEN: TEST_TOKEN });
    const port = await freePort();
    const config = join(pki.dir, 'haproxy.cfg');
    writeFileSync(config, renderHaproxyConfig([{ wsPort: Number(new URL(gw.url).port), httpPort: Number(new URL(gw.healthUrl).port) }], readFileSync(TLS_CONFIG, 'utf8')));
    const haproxy = spawn(findHaproxy(), ['-db', '-f', config], {
      env: { ...process.env, LG_TLS_CRT: combined, LG_AGENTS_BIND: `127.0.0.1:${port}`, LG_STATS_SOCKET: join(pki.dir, 'haproxy.sock'), LG_STATS_BIND: `127.0.0.1:${await freePort()}`, LG_LOG_TARGET: 'stdout', LG_MAXCONN: '1000', LG_CHECK_INTER: '200ms', LG_CHECK_RISE: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    haproxy.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const tls = clientTls({ caFile: pki.ca });
    try {
      // Bounded: HAProxy listening with TLS and its one server UP (first Welcome through it).
      await eventually(async () => (await tlsProbe(port, { ca: pki.ca, timeoutMs: 1_000 })).ok, `HAProxy serving TLS on ${port}: ${stderr}`, 15_000, 100);
      expect((await tlsProbe(port, { ca: pki.ca })).subjectCn).toBe('lb.example');
      let welcome;
      await eventually(async () => {
        const agent = newAgent(`wss://127.0.0.1:${port}`, { tls, handshakeTimeoutMs: 3_000 });
        agent.on('error', () => {});
        welcome = await agent.connect().catch(() => undefined);
        await agent.close().catch(() => {});
        return welcome !== undefined;
      }, 'an agent enrolled through HAProxy', 20_000, 200);
      expect(welcome!.license.licensed).toBe(true);
      const plain = await new Promise<boolean>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}`, { handshakeTimeout: 3_000 });
        ws.on('open', () => {
          ws.terminate();
          resolve(true);
        });
        ws.on('error', () => resolve(false));
      });
      expect(plain).toBe(false);
    } finally {
      haproxy.kill('SIGTERM');
      await new Promise((r) => (haproxy.exitCode !== null ? r(null) : haproxy.once('exit', r)));
      await gw.stop();
      redis.disconnect();
    }
  }, 60_000);
});
