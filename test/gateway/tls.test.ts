/**
 * SPEC Z1 over real processes: `licensegate serve` with TLS_CERT_FILE / TLS_KEY_FILE (a
 * certificate made at test time by a throwaway CA) serves wss:// and https://; agent-sim with
 * --ca enrolls and licenses over it; a client that does not trust the CA, and plain ws://, are
 * refused by TLS before any licensegate code runs.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { serve } from '../../src/serve.ts';
import { StartupError } from '../../src/startup-error.ts';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientTls } from '../../agent-sim/tls-options.ts';
import type { SimReport } from '../../agent-sim/report.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { newAgent } from '../helpers/agents.ts';
import { TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, redisEnv, uniquePrefix } from '../helpers/redis.ts';
import { createTestPki, httpsGetJson, tlsEnv, tlsProbe, type TestPki } from '../helpers/test-certs.ts';

const root = join(import.meta.dirname, '../..');
let pki: TestPki;
let redis: RedisClient;
let keys: Keys;
let gw: GatewayProcess;

beforeAll(async () => {
  pki = createTestPki('lg-tls-a');
  redis = await connectRedis();
  const prefix = uniquePrefix('tls');
  keys = new Keys(prefix, `{${prefix}}`);
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  await activatePool(ledgerContext(redis, keys), { workstation: 100 });
  gw = await startGatewayProcess({
    ...redisEnv(),
    KEY_PREFIX: prefix,
    QUEUE_PREFIX: `{${prefix}}`,
    ENROLLMENT_TOKEN: TEST_TOKEN,
    HEARTBEAT_INTERVAL_MS: '500',
    ...tlsEnv(pki.server('gw-a', 0x1a1)),
  });
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  redis?.disconnect();
  pki?.remove();
});

const portOf = (url: string) => Number(new URL(url).port);

/** Runs bin/agent-sim.mjs to its end (bounded); the JSON report is read from stdout. */
function agentSim(args: string[], timeoutMs = 40_000): Promise<{ code: number | null; report: SimReport | null; stderr: string }> {
  const child = spawn(process.execPath, [join(root, 'bin/agent-sim.mjs'), ...args, '--json', '--quiet'], { cwd: root, env: { ...process.env, AGENT_SIM_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent-sim still running after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      let report: SimReport | null = null;
      try {
        report = JSON.parse(stdout) as SimReport;
      } catch {
        // no report (a usage or preflight error): the caller looks at code and stderr
      }
      resolve({ code, report, stderr });
    });
  });
}

/** Opens a WebSocket and reports whether it opened, or the error that stopped it. */
function wsAttempt(url: string, options: WebSocket.ClientOptions = {}): Promise<{ opened: boolean; error?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { ...options, handshakeTimeout: 5_000 });
    ws.on('open', () => {
      ws.terminate();
      resolve({ opened: true });
    });
    ws.on('error', (err: NodeJS.ErrnoException) => resolve({ opened: false, error: err.code ?? err.message }));
  });
}

describe('TLS served by licensegate (SPEC Z1)', () => {
  it('Z1: with TLS_CERT_FILE/TLS_KEY_FILE the ready line says wss:// and https://', () => {
    expect(gw.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    expect(gw.healthUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('Z1: agents enroll and are licensed over wss:// through agent-sim with --ca', async () => {
    const run = await agentSim(['--url', gw.url, '--ca', pki.ca, '--agents', '30', '--token', TEST_TOKEN, '--duration', '3s', '--procs', '2', '--os-mix', 'windows:1']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ everConnected: 30, connected: 30, exitCode: 0, errors: { total: 0 } });
    expect(run.report!.licensed.total).toBe(30);
    expect(run.report!.latencyMs.heartbeatRtt!.count).toBeGreaterThan(0);
    expect(await redis.scard(keys.clients(DEFAULT_TENANT))).toBeGreaterThanOrEqual(30);
  }, 60_000);

  it('Z1: the Agent class connects over wss:// with the CA in a shared secure context', async () => {
    const agent = newAgent(gw.url, { tls: clientTls({ caFile: pki.ca }) });
    const welcome = await agent.connect();
    expect(welcome.license.licensed).toBe(true);
    await agent.close();
  });

  it('Z1: a client that does not trust the CA is refused by TLS (agent-sim without --ca exits 1, nothing enrolls)', async () => {
    const before = await redis.scard(keys.clients(DEFAULT_TENANT));
    const untrusted = await wsAttempt(gw.url);
    expect(untrusted.opened).toBe(false);
    expect(untrusted.error).toMatch(/UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    const other = createTestPki('lg-tls-other');
    try {
      const wrongCa = await tlsProbe(portOf(gw.url), { ca: other.ca });
      expect(wrongCa.ok).toBe(false);
      expect(wrongCa.error).toMatch(/UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_SIGNATURE_FAILURE/);
    } finally {
      other.remove();
    }
    const run = await agentSim(['--url', gw.url, '--agents', '3', '--token', TEST_TOKEN, '--duration', '1500ms']);
    expect(run.code).toBe(1);
    expect(run.report).toMatchObject({ everConnected: 0, exitCode: 1 });
    expect(await redis.scard(keys.clients(DEFAULT_TENANT))).toBe(before);
  }, 30_000);

  it('Z1: plain ws:// to the TLS port fails, and so does http:// to the HTTPS port', async () => {
    const plain = await wsAttempt(gw.url.replace(/^wss:/, 'ws:'));
    expect(plain.opened).toBe(false);
    expect(plain.error).toBeDefined();
    const plainHttp = await fetch(`${gw.healthUrl.replace(/^https:/, 'http:')}/healthz`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(plainHttp).toBe('refused');
  });

  it('Z1: /healthz and /readyz answer over https://', async () => {
    expect(await httpsGetJson(`${gw.healthUrl}/healthz`, pki.ca)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await httpsGetJson(`${gw.healthUrl}/readyz`, pki.ca)).toMatchObject({ status: 200, body: { status: 'ready' } });
    const served = await tlsProbe(portOf(gw.healthUrl), { ca: pki.ca });
    expect(served).toMatchObject({ ok: true, subjectCn: 'gw-a', serial: '01A1' });
  });

  it('Z1 R3: a key file gone between the configuration check and listening stops start-up at its own step, with the recovery', async () => {
    const cert = pki.server('gw-gone', 0x5e5);
    const prefix = uniquePrefix('tlsgone');
    const config = loadConfig({ ...redisEnv(), KEY_PREFIX: prefix, QUEUE_PREFIX: `{${prefix}}`, RUN_WORKERS: 'false', GATEWAY_PORT: '0', HTTP_PORT: '0', ...tlsEnv(cert) });
    rmSync(cert.key);
    const failed = await serve(config, pino({ level: 'silent' })).then(
      () => null,
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(StartupError);
    expect(failed).toMatchObject({ code: 'STARTUP_FAILED', step: 'tls', expected: true });
    expect((failed as StartupError).message).toMatch(/TLS_KEY_FILE: cannot read .*ENOENT/);
    expect((failed as StartupError).recovery).toMatch(/TLS_CERT_FILE and TLS_KEY_FILE/);
  });

  it('Z1: only TLS 1.2 and later are offered: a TLS 1.1 client gets a protocol-version alert', async () => {
    const error = await new Promise<string>((resolve) => {
      // SECLEVEL=0 lets this client offer TLS 1.1 at all; the refusal must come from the server.
      const socket = tlsConnect({ host: '127.0.0.1', port: portOf(gw.url), ca: readFileSync(pki.ca), minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
      socket.on('secureConnect', () => {
        socket.destroy();
        resolve('CONNECTED');
      });
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(error).toMatch(/ALERT_PROTOCOL_VERSION/);
  });
});
