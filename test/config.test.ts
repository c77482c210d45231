import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { vendor } from './helpers/ledger.ts';
import { createTestPki } from './helpers/test-certs.ts';
import { DEFAULT_OS_LICENSE_MAP } from '../src/licensing/os-license-map.ts';

describe('configuration', () => {
  it('R3: every setting has a safe default', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      redisTarget: undefined,
      gatewayHost: '127.0.0.1',
      gatewayPort: 8080,
      httpPort: 8081,
      heartbeatIntervalMs: 15_000,
      maxFrameBytes: 65_536,
      logLevel: 'info',
      keyPrefix: 'lg',
      queuePrefix: '{licensegate}',
      vendorPublicKeys: [],
      osLicenseMap: DEFAULT_OS_LICENSE_MAP,
      reconcileIntervalMs: 30_000,
      clockOffsetMs: 0,
      helloQueueMax: 20_000,
      helloQueueWaitMs: 6_000,
      sseMaxStreams: 256,
    });
    expect(c.dataDir).toMatch(/\/data$/);
  });

  it('Z5 R3: retention defaults (docs/retention.md), days with fractions, 0 keeps for ever', () => {
    const day = 86_400_000;
    expect(loadConfig({}).retention).toEqual({
      auditRetentionMs: 365 * day,
      auditMaxEntries: 1_000_000,
      eventsRetentionMs: 30 * day,
      eventsMaxEntries: 100_000,
      uninstalledRetentionMs: 90 * day,
      jobsRetentionMs: 7 * day,
      batch: 500,
    });
    expect(loadConfig({ AUDIT_RETENTION_DAYS: '0', AUDIT_MAX_ENTRIES: '0', UNINSTALLED_RETENTION_DAYS: '0.5', JOBS_RETENTION_DAYS: '1' }).retention).toMatchObject({
      auditRetentionMs: 0,
      auditMaxEntries: 0,
      uninstalledRetentionMs: day / 2,
      jobsRetentionMs: day,
    });
  });

  it('R3 S1: VENDOR_PUBLIC_KEYS takes PEM strings and files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-cfg-'));
    writeFileSync(join(dir, 'vendor.pub'), vendor.publicKeyPem);
    const keys = loadConfig({ VENDOR_PUBLIC_KEYS: `${join(dir, 'vendor.pub')},${vendor.publicKeyPem}` }).vendorPublicKeys;
    expect(keys).toHaveLength(2);
    expect(keys.every((k) => k.asymmetricKeyType === 'ed25519')).toBe(true);
  });

  const wrong: [string, Record<string, string>, RegExp][] = [
    ['a port that is not a number', { GATEWAY_PORT: 'eighty' }, /GATEWAY_PORT/],
    ['a port out of range', { HTTP_PORT: '70000' }, /HTTP_PORT/],
    ['a REDIS_URL that is not redis://', { REDIS_URL: 'http://x' }, /REDIS_URL/],
    ['an unknown log level', { LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    ['a short enrollment token', { ENROLLMENT_TOKEN: 'short' }, /ENROLLMENT_TOKEN/],
    ['a heartbeat below 100 ms', { HEARTBEAT_INTERVAL_MS: '5' }, /HEARTBEAT_INTERVAL_MS/],
    ['a vendor key file that does not exist', { VENDOR_PUBLIC_KEYS: '/nonexistent/vendor.pub' }, /VENDOR_PUBLIC_KEYS/],
    ['a queue prefix without a hash tag', { QUEUE_PREFIX: 'licensegate' }, /QUEUE_PREFIX/],
    ['a node timeout not above its heartbeat', { NODE_HEARTBEAT_MS: '5000', NODE_TIMEOUT_MS: '5000' }, /NODE_TIMEOUT_MS/],
    ['the same port twice', { GATEWAY_PORT: '9000', HTTP_PORT: '9000' }, /GATEWAY_PORT and HTTP_PORT/],
    ['a missing OS map file', { OS_LICENSE_MAP_FILE: '/nonexistent/map.json' }, /OS_LICENSE_MAP_FILE/],
    ['a reconciliation interval below 100 ms', { RECONCILE_INTERVAL_MS: '50' }, /RECONCILE_INTERVAL_MS/],
    ['a clock offset that is not a whole number of ms', { CLOCK_OFFSET_MS: '1.5' }, /CLOCK_OFFSET_MS/],
    ['a clock offset beyond a day', { CLOCK_OFFSET_MS: '-90000000' }, /CLOCK_OFFSET_MS/],
    ['an unknown durability mode', { DURABILITY: 'sometimes' }, /DURABILITY/],
    ['zero replicas', { DURABILITY: 'replicas:0', REDIS_URL: 'redis://127.0.0.1:6379' }, /DURABILITY/],
    ['a replica count that is not a number', { DURABILITY: 'replicas:two', REDIS_URL: 'redis://127.0.0.1:6379' }, /DURABILITY/],
    ['replicas without REDIS_URL (the embedded Redis has none)', { DURABILITY: 'replicas:1' }, /DURABILITY=replicas:1 needs REDIS_URL/],
    ['a durability timeout below 10 ms', { DURABILITY_TIMEOUT_MS: '0' }, /DURABILITY_TIMEOUT_MS/],
    ['a durability timeout that would let node heartbeats lapse', { DURABILITY: 'replicas:1', REDIS_URL: 'redis://127.0.0.1:6379', DURABILITY_TIMEOUT_MS: '12000' }, /DURABILITY_TIMEOUT_MS/],
    ['an unknown durability check', { DURABILITY_CHECK: 'maybe' }, /DURABILITY_CHECK/],
    ['a negative drain window', { DRAIN_SECONDS: '-1' }, /DRAIN_SECONDS/],
    ['a drain window that is not a number', { DRAIN_SECONDS: 'ten' }, /DRAIN_SECONDS/],
    ['a drain window beyond an hour', { DRAIN_SECONDS: '3601' }, /DRAIN_SECONDS/],
    ['a drain notice that is not a whole number of ms', { DRAIN_NOTICE_MS: '2.5' }, /DRAIN_NOTICE_MS/],
    ['a negative drain notice', { DRAIN_NOTICE_MS: '-5' }, /DRAIN_NOTICE_MS/],
    ['a negative Hello queue size', { HELLO_QUEUE_MAX: '-1' }, /HELLO_QUEUE_MAX/],
    ['a Hello queue wait below 10 ms', { HELLO_QUEUE_WAIT_MS: '5' }, /HELLO_QUEUE_WAIT_MS/],
    ['a negative audit retention', { AUDIT_RETENTION_DAYS: '-1' }, /AUDIT_RETENTION_DAYS/],
    ['an audit cap that is not a whole number', { AUDIT_MAX_ENTRIES: '10.5' }, /AUDIT_MAX_ENTRIES/],
    ['an events cap above the write-time cap', { EVENTS_MAX_ENTRIES: '200000' }, /EVENTS_MAX_ENTRIES/],
    ['an uninstalled retention that is not a number', { UNINSTALLED_RETENTION_DAYS: 'forever' }, /UNINSTALLED_RETENTION_DAYS/],
    ['a negative job retention', { JOBS_RETENTION_DAYS: '-7' }, /JOBS_RETENTION_DAYS/],
    ['a retention batch below 10', { RETENTION_BATCH: '1' }, /RETENTION_BATCH/],
    ['no room for any event stream (H3)', { SSE_MAX_STREAMS: '0' }, /SSE_MAX_STREAMS/],
    ['an enrollment rate of zero', { TENANT_ENROLL_RATE: '0' }, /TENANT_ENROLL_RATE/],
    ['an enrollment burst that is not a whole number', { TENANT_ENROLL_BURST: '1.5' }, /TENANT_ENROLL_BURST/],
    ['a failed-auth audit window below 100 ms', { AUTH_AUDIT_WINDOW_MS: '10' }, /AUTH_AUDIT_WINDOW_MS/],
    ['an unknown dev license mode (Z2)', { DEV_LICENSE: 'yes' }, /DEV_LICENSE/],
    ['a TLS certificate without its key', { TLS_CERT_FILE: '/etc/hostname' }, /TLS_CERT_FILE is set but TLS_KEY_FILE is not/],
    ['a TLS key without its certificate', { TLS_KEY_FILE: '/etc/hostname' }, /TLS_KEY_FILE is set but TLS_CERT_FILE is not/],
    ['a client CA without a server certificate', { TLS_CA_FILE: '/etc/hostname' }, /TLS_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE/],
    ['a TLS certificate file that does not exist', { TLS_CERT_FILE: '/nonexistent/cert.pem', TLS_KEY_FILE: '/nonexistent/key.pem' }, /TLS_INVALID: .*TLS_CERT_FILE: cannot read \/nonexistent\/cert\.pem/],
  ];
  for (const [name, env, message] of wrong) {
    it(`R3: ${name} stops start-up with a message naming it`, () => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });
  }

  it('R3 F5: DURABILITY defaults to everysec and takes always or replicas:<n> with a WAIT timeout', () => {
    expect(loadConfig({})).toMatchObject({ durability: { kind: 'everysec' }, durabilityCheck: 'config' });
    expect(loadConfig({ DURABILITY: 'always', DURABILITY_CHECK: 'skip' })).toMatchObject({ durability: { kind: 'always' }, durabilityCheck: 'skip' });
    expect(loadConfig({ DURABILITY: 'replicas:2', REDIS_URL: 'redis://127.0.0.1:6379', DURABILITY_TIMEOUT_MS: '250' }).durability).toEqual({
      kind: 'replicas',
      replicas: 2,
      timeoutMs: 250,
    });
  });

  it('R3 F5: a bad DURABILITY stops `licensegate serve` with exit code 2 naming the variable', () => {
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '../bin/licensegate.mjs'), 'serve'], {
      env: { ...process.env, DURABILITY: 'replicas:', REDIS_URL: 'redis://127.0.0.1:1' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/DURABILITY: must be everysec, always or replicas:<n>/);
  });

  it('R3 L2: OS_LICENSE_MAP_FILE replaces the table and is validated', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-cfg-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify([{ family: 'linux', type: 'cloud-server' }]));
    expect(loadConfig({ OS_LICENSE_MAP_FILE: good }).osLicenseMap).toEqual([{ family: 'linux', type: 'cloud-server' }]);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ family: 'linux', type: 'mainframe' }]));
    expect(() => loadConfig({ OS_LICENSE_MAP_FILE: bad })).toThrow(/OS_LICENSE_MAP_FILE/);
  });

  it('R3 Z1: TLS files are checked at start-up: readable PEM, the key matching the certificate; paths kept for SIGHUP', () => {
    const pki = createTestPki('lg-cfg-tls');
    try {
      const a = pki.server('a', 1);
      const b = pki.server('b', 2);
      expect(loadConfig({}).tls).toBeUndefined();
      expect(loadConfig({ TLS_CERT_FILE: a.cert, TLS_KEY_FILE: a.key, TLS_CA_FILE: pki.ca }).tls).toEqual({ certFile: a.cert, keyFile: a.key, caFile: pki.ca });
      expect(() => loadConfig({ TLS_CERT_FILE: a.cert, TLS_KEY_FILE: b.key })).toThrow(/TLS_INVALID: .*TLS_KEY_FILE: .* is not the key of the certificate/);
      expect(() => loadConfig({ TLS_CERT_FILE: a.key, TLS_KEY_FILE: a.key })).toThrow(/TLS_CERT_FILE: .* is not a PEM certificate/);
      expect(() => loadConfig({ TLS_CERT_FILE: a.cert, TLS_KEY_FILE: a.key, TLS_CA_FILE: '/nonexistent/ca.pem' })).toThrow(/TLS_CA_FILE: cannot read/);
      // The CLI: exit 2, the variable named, no key material echoed.
      const r = spawnSync(process.execPath, [join(import.meta.dirname, '../bin/licensegate.mjs'), 'serve'], {
        env: { ...process.env, TLS_CERT_FILE: a.cert, TLS_KEY_FILE: b.key, REDIS_URL: 'redis://127.0.0.1:1' },
        encoding: 'utf8',
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/TLS_INVALID: .*TLS_KEY_FILE/);
      expect(r.stderr).not.toMatch(/PRIVATE KEY/);
    } finally {
      pki.remove();
    }
  });

  it('R3 X4: the drain defaults to a 3 s notice and a 10 s window; DRAIN_SECONDS=0 turns it off', () => {
    expect(loadConfig({})).toMatchObject({ drainSeconds: 10, drainNoticeMs: 3_000 });
    expect(loadConfig({ DRAIN_SECONDS: '0', DRAIN_NOTICE_MS: '0' })).toMatchObject({ drainSeconds: 0, drainNoticeMs: 0 });
    expect(loadConfig({ DRAIN_SECONDS: '2.5', DRAIN_NOTICE_MS: '250' })).toMatchObject({ drainSeconds: 2.5, drainNoticeMs: 250 });
  });

  it('R3 Z3: enrollment limits default to 100/s with a burst of 50,000 (above the largest boot storm); failed authentications are audited per 10 s', () => {
    expect(loadConfig({})).toMatchObject({ tenantEnrollRate: 100, tenantEnrollBurst: 50_000, authAuditWindowMs: 10_000 });
    expect(loadConfig({ TENANT_ENROLL_RATE: '5', TENANT_ENROLL_BURST: '20', AUTH_AUDIT_WINDOW_MS: '1000' })).toMatchObject({ tenantEnrollRate: 5, tenantEnrollBurst: 20, authAuditWindowMs: 1_000 });
  });

  it('R3 Z4: abuse limits default to a 5 s Hello timeout, 18,000 / 2,000 unauthenticated sockets, 20 failures a minute, 1 MiB send buffer', () => {
    expect(loadConfig({})).toMatchObject({
      helloTimeoutMs: 5_000,
      maxUnauthenticated: 18_000,
      maxUnauthenticatedPerSource: 2_000,
      authFailuresPerSource: 20,
      authFailureWindowMs: 60_000,
      authBackoffBaseMs: 1_000,
      authBackoffMaxMs: 60_000,
      trustedProxies: [],
      maxSendBufferBytes: 1024 * 1024,
      http: { headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000, maxHeadersCount: 50, idleTimeoutMs: 5_000 },
    });
    expect(loadConfig({ TRUSTED_PROXIES: '10.0.0.5, 10.0.1.0/24,fd00::1' }).trustedProxies).toEqual(['10.0.0.5', '10.0.1.0/24', 'fd00::1']);
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.5,haproxy' })).toThrow(/TRUSTED_PROXIES: "haproxy" is not an IP address/);
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(ConfigError);
    expect(() => loadConfig({ AUTH_BACKOFF_BASE_MS: '5000', AUTH_BACKOFF_MAX_MS: '1000' })).toThrow(/AUTH_BACKOFF_MAX_MS/);
    expect(() => loadConfig({ MAX_SEND_BUFFER_BYTES: '100' })).toThrow(/MAX_SEND_BUFFER_BYTES/);
  });

  it('R3 H2: admin sessions default to 30 idle minutes and 12 hours at most; fractional values give seconds', () => {
    expect(loadConfig({})).toMatchObject({ sessionIdleMs: 30 * 60_000, sessionMaxMs: 12 * 3_600_000 });
    expect(loadConfig({ SESSION_IDLE_MINUTES: '0.05', SESSION_MAX_HOURS: '0.5' })).toMatchObject({ sessionIdleMs: 3_000, sessionMaxMs: 1_800_000 });
    expect(() => loadConfig({ SESSION_IDLE_MINUTES: '0' })).toThrow(/SESSION_IDLE_MINUTES/);
    expect(() => loadConfig({ SESSION_MAX_HOURS: 'soon' })).toThrow(/SESSION_MAX_HOURS/);
  });

  it('R3 H4: metrics default to on, no token, 10 tenant labels and a 10 s cache; METRICS=off turns them off', () => {
    expect(loadConfig({}).metrics).toEqual({ enabled: true, token: undefined, tenantLabels: 10, cacheMs: 10_000 });
    expect(loadConfig({ METRICS: 'off', METRICS_TOKEN: 'scrape-token-0123456789', METRICS_TENANT_LABELS: '3', METRICS_CACHE_MS: '0' }).metrics).toEqual({
      enabled: false,
      token: 'scrape-token-0123456789',
      tenantLabels: 3,
      cacheMs: 0,
    });
    expect(() => loadConfig({ METRICS: 'yes' })).toThrow(/METRICS/);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(() => loadConfig({ METRICS_TENANT_LABELS: '-1' })).toThrow(/METRICS_TENANT_LABELS/);
  });

  it('R3 H5: the web console defaults to on; CONSOLE=off turns it off; anything else is refused', () => {
    expect(loadConfig({}).console).toBe(true);
    expect(loadConfig({ CONSOLE: 'off' }).console).toBe(false);
    expect(loadConfig({ CONSOLE: 'on' }).console).toBe(true);
    expect(() => loadConfig({ CONSOLE: 'yes' })).toThrow(/CONSOLE/);
  });

  it('R3 F1: CLOCK_OFFSET_MS takes a signed offset in ms', () => {
    expect(loadConfig({ CLOCK_OFFSET_MS: '-30000' }).clockOffsetMs).toBe(-30_000);
    expect(loadConfig({ CLOCK_OFFSET_MS: '30000', RECONCILE_INTERVAL_MS: '5000' })).toMatchObject({ clockOffsetMs: 30_000, reconcileIntervalMs: 5_000 });
  });
});
