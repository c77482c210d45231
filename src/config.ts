/**
 * Configuration from the environment (SPEC R3): every setting has a safe default, and a wrong
 * one stops start-up with a message naming the variable. The README's configuration table
 * lists the same variables.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { KeyObject } from 'node:crypto';
import { loadPublicKeys } from './licensing/vendor-keys.ts';
import { DEV_LICENSE_MODES, type DevLicenseMode } from './licensing/dev-license-mode.ts';
import { DEFAULT_OS_LICENSE_MAP, osLicenseMapSchema, type OsLicenseRule } from './licensing/os-license-map.ts';
import { DURABILITY_PATTERN, parseDurability, type DurabilityMode } from './store/durability.ts';
import { RedisTargetError, targetFromEnv, type RedisTarget } from './store/redis-target.ts';
import type { RetentionSettings } from './licensing/retention.ts';
import { DEFAULT_ENROLL_BURST, DEFAULT_ENROLL_RATE } from './licensing/tenant-limits.ts';
import { DEFAULT_AUTH_AUDIT_WINDOW_MS } from './gateway/failed-auth-audit.ts';
import { loadTls, type TlsFiles } from './gateway/tls-context.ts';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './gateway/http-hardening.ts';
import { parseTrustedProxies } from './gateway/source-limits.ts';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** Days, fractions allowed (0.5 = 12 h); 0 = keep for ever. */
const days = (max: number) => z.coerce.number().finite().min(0).max(max);

const envSchema = z.object({
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  GATEWAY_PORT: int(0, 65535).default(8080),
  HTTP_PORT: int(0, 65535).default(8081),
  DATA_DIR: z.string().min(1).default('./data'),
  ENROLLMENT_TOKEN: z.string().regex(/^[\x21-\x7e]{16,512}$/, 'must be 16-512 printable characters without spaces').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  HEARTBEAT_INTERVAL_MS: int(100, 3_600_000).default(15_000),
  HELLO_TIMEOUT_MS: int(100, 600_000).default(5_000),
  MAX_FRAME_BYTES: int(256, 16 * 1024 * 1024).default(64 * 1024),
  FRAMES_PER_SECOND: int(1, 100_000).default(20),
  FRAME_BURST: int(4, 100_000).default(60),
  LAST_SEEN_FLUSH_MS: int(100, 3_600_000).default(5_000),
  NODE_HEARTBEAT_MS: int(100, 600_000).default(5_000),
  NODE_TIMEOUT_MS: int(300, 3_600_000).default(15_000),
  KEY_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]{1,32}$/, 'must be 1-32 characters of [A-Za-z0-9_.:-]').default('lg'),
  QUEUE_PREFIX: z.string().regex(/^\{[A-Za-z0-9_.:-]{1,40}\}$/, 'must be {name} (a Redis hash tag)').default('{licensegate}'),
  VENDOR_PUBLIC_KEYS: z.string().optional(),
  ADMIN_CONCURRENCY: int(1, 1000).default(16),
  RUN_WORKERS: z.enum(['true', 'false']).default('true'),
  MAX_HANDSHAKES: int(1, 1_000_000).default(1_000),
  MAX_ENROLLMENTS: int(1, 1_000_000).default(500),
  MAX_CONNECTIONS: int(1, 10_000_000).default(18_000),
  HELLO_QUEUE_MAX: int(0, 10_000_000).default(20_000),
  HELLO_QUEUE_WAIT_MS: int(10, 600_000).default(6_000),
  RETRY_BASE_MS: int(10, 600_000).default(1_000),
  RETRY_MAX_MS: int(10, 3_600_000).default(30_000),
  OS_LICENSE_MAP_FILE: z.string().optional(),
  RECONCILE_INTERVAL_MS: int(100, 86_400_000).default(30_000),
  CLOCK_OFFSET_MS: int(-86_400_000, 86_400_000).default(0),
  LEDGER_UPKEEP_MS: int(100, 86_400_000).default(60_000),
  DURABILITY: z.string().regex(DURABILITY_PATTERN, 'must be everysec, always or replicas:<n> (n from 1 to 999)').default('everysec'),
  DURABILITY_TIMEOUT_MS: int(10, 60_000).default(1_000),
  DURABILITY_CHECK: z.enum(['config', 'skip']).default('config'),
  DRAIN_SECONDS: z.coerce.number().finite().min(0).max(3600).default(10),
  DRAIN_NOTICE_MS: int(0, 600_000).default(3_000),
  // Retention (SPEC Z5, docs/retention.md): applied by the ledger upkeep.
  AUDIT_RETENTION_DAYS: days(36_500).default(365),
  AUDIT_MAX_ENTRIES: int(0, 1_000_000_000).default(1_000_000),
  EVENTS_RETENTION_DAYS: days(36_500).default(30),
  EVENTS_MAX_ENTRIES: int(1, 100_000).default(100_000),
  UNINSTALLED_RETENTION_DAYS: days(36_500).default(90),
  JOBS_RETENTION_DAYS: days(3_650).default(7),
  RETENTION_BATCH: int(10, 10_000).default(500),
  TENANT_ENROLL_RATE: int(1, 10_000_000).default(DEFAULT_ENROLL_RATE),
  TENANT_ENROLL_BURST: int(1, 10_000_000).default(DEFAULT_ENROLL_BURST),
  AUTH_AUDIT_WINDOW_MS: int(100, 3_600_000).default(DEFAULT_AUTH_AUDIT_WINDOW_MS),
  DEV_LICENSE: z.enum(DEV_LICENSE_MODES).default('auto'),
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  TLS_CA_FILE: z.string().optional(),
  // abuse bounds (SPEC Z4, docs/abuse-limits.md)
  MAX_UNAUTHENTICATED: int(1, 10_000_000).default(18_000),
  MAX_UNAUTHENTICATED_PER_SOURCE: int(1, 10_000_000).default(2_000),
  AUTH_FAILURES_PER_SOURCE: int(1, 1_000_000).default(20),
  AUTH_FAILURE_WINDOW_MS: int(100, 86_400_000).default(60_000),
  AUTH_BACKOFF_BASE_MS: int(10, 3_600_000).default(1_000),
  AUTH_BACKOFF_MAX_MS: int(10, 86_400_000).default(60_000),
  TRUSTED_PROXIES: z.string().optional(),
  MAX_SEND_BUFFER_BYTES: int(16 * 1024, 1024 * 1024 * 1024).default(1024 * 1024),
  HTTP_HEADERS_TIMEOUT_MS: int(100, 600_000).default(5_000),
  HTTP_REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(10_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(100, 600_000).default(5_000),
  HTTP_MAX_HEADERS: int(4, 2_000).default(50),
  // live events (SPEC H3, docs/live-events.md): open event streams per process at most
  SSE_MAX_STREAMS: int(1, 100_000).default(256),
  // admin sessions (SPEC H2, docs/accounts.md): fractional values allowed (0.05 min = 3 s, for tests)
  SESSION_IDLE_MINUTES: z.coerce.number().finite().min(0.01).max(10_080).default(30),
  SESSION_MAX_HOURS: z.coerce.number().finite().min(0.001).max(8_760).default(12),
  // Prometheus metrics (SPEC H4, docs/metrics.md)
  METRICS: z.enum(['on', 'off']).default('on'),
  METRICS_TOKEN: z.string().regex(/^[\x21-\x7e]{16,512}$/, 'must be 16-512 printable characters without spaces').optional(),
  METRICS_TENANT_LABELS: int(0, 1_000).default(10),
  METRICS_CACHE_MS: int(0, 600_000).default(10_000),
  // the web console at / on the HTTP port (SPEC H5, docs/console.md)
  CONSOLE: z.enum(['on', 'off']).default('on'),
});

export interface Config {
  /** REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES (+ credentials/TLS); undefined: the embedded Redis. */
  redisTarget: RedisTarget | undefined;
  gatewayHost: string;
  gatewayPort: number;
  httpPort: number;
  dataDir: string;
  enrollmentToken: string | undefined;
  logLevel: string;
  logFormat: 'auto' | 'json' | 'pretty';
  heartbeatIntervalMs: number;
  helloTimeoutMs: number;
  maxFrameBytes: number;
  framesPerSecond: number;
  frameBurst: number;
  lastSeenFlushMs: number;
  nodeHeartbeatMs: number;
  nodeTimeoutMs: number;
  keyPrefix: string;
  queuePrefix: string;
  /** Admin jobs a worker runs at once. */
  adminConcurrency: number;
  /** Run the admin-job and scheduler workers in this process (false: gateway only). */
  runWorkers: boolean;
  maxHandshakes: number;
  maxEnrollments: number;
  maxConnections: number;
  /** Hellos that wait for a handshake slot instead of OVERLOADED (C13); 0: none wait. */
  helloQueueMax: number;
  /** Longest a queued Hello waits before OVERLOADED. */
  helloQueueWaitMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Public keys that verify serial keys; the zero-config default adds its dev key. */
  vendorPublicKeys: KeyObject[];
  osLicenseMap: readonly OsLicenseRule[];
  /** How often a gateway makes Redis's online records match the sockets it holds (F1). */
  reconcileIntervalMs: number;
  /** Fault testing: shifts this process's wall clock (src/clock.ts). */
  clockOffsetMs: number;
  /** How often the ledger upkeep resumes interrupted sagas and ends due keys (SPEC F2). */
  ledgerUpkeepMs: number;
  /** When a change may be acknowledged (docs/durability.md). */
  durability: DurabilityMode;
  /** `config`: verify the Redis side at start-up with CONFIG GET; `skip`: the operator asserts it. */
  durabilityCheck: 'config' | 'skip';
  /** SIGTERM closes the agents over this window (SPEC X4, docs/operations.md); 0: at once, no drain. */
  drainSeconds: number;
  /** Before the drain's first close: time for a balancer to see `/readyz` fail. */
  drainNoticeMs: number;
  /** What the ledger upkeep trims, and when (SPEC Z5, docs/retention.md). */
  retention: RetentionSettings;
  /** New registrations per second of a tenant that sets none (SPEC Z3, docs/identity.md). */
  tenantEnrollRate: number;
  /** Registrations a tenant that sets none may make at once. */
  tenantEnrollBurst: number;
  /** Failed authentications are audited once per tenant per window (SPEC Z3). */
  authAuditWindowMs: number;
  /** Trust the dev vendor key: `auto` only with the embedded Redis (src/licensing/dev-license-mode.ts). */
  devLicense: DevLicenseMode;
  /** TLS_CERT_FILE / TLS_KEY_FILE (+ TLS_CA_FILE): wss:// and https:// (SPEC Z1); undefined: plain. Paths only: SIGHUP rereads them. */
  tls: TlsFiles | undefined;
  /** Abuse bounds (SPEC Z4, docs/abuse-limits.md). */
  maxUnauthenticated: number;
  maxUnauthenticatedPerSource: number;
  authFailuresPerSource: number;
  authFailureWindowMs: number;
  authBackoffBaseMs: number;
  authBackoffMaxMs: number;
  /** Balancers whose X-Forwarded-For names the client (addresses, CIDR ranges). */
  trustedProxies: string[];
  maxSendBufferBytes: number;
  /** Slowloris bounds of the agent port (before the upgrade) and of the health port. */
  http: HttpLimits;
  /** SSE_MAX_STREAMS: open `GET /api/v1/events` streams per process; more get 503 (docs/live-events.md). */
  sseMaxStreams: number;
  /** An admin session unused this long ends (SESSION_IDLE_MINUTES, SPEC H2). */
  sessionIdleMs: number;
  /** An admin session ends this long after login (SESSION_MAX_HOURS). */
  sessionMaxMs: number;
  /** Prometheus metrics on the HTTP port (SPEC H4, docs/metrics.md). */
  metrics: MetricsSettings;
  /** CONSOLE=on: the web console at / on the HTTP port, built at start (SPEC H5, docs/console.md). */
  console: boolean;
}

export interface MetricsSettings {
  /** METRICS=on: GET /metrics and the instrumentation; off: neither (no cost). */
  enabled: boolean;
  /** METRICS_TOKEN: a scrape must carry it as a bearer token. */
  token: string | undefined;
  /** METRICS_TENANT_LABELS: tenants that keep their own `tenant` label; the rest are `other`. */
  tenantLabels: number;
  /** METRICS_CACHE_MS: how long one Redis read of the license gauges answers scrapes. */
  cacheMs: number;
}

const DAY_MS = 86_400_000;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function loadOsLicenseMap(file: string): readonly OsLicenseRule[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(resolve(file), 'utf8'));
  } catch (err) {
    throw new ConfigError(`OS_LICENSE_MAP_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = osLicenseMapSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(`OS_LICENSE_MAP_FILE: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  let redisTarget: RedisTarget | undefined;
  try {
    redisTarget = targetFromEnv(raw);
  } catch (err) {
    if (err instanceof RedisTargetError) throw new ConfigError(err.message);
    throw err;
  }
  if (e.NODE_TIMEOUT_MS <= e.NODE_HEARTBEAT_MS) throw new ConfigError('NODE_TIMEOUT_MS must be greater than NODE_HEARTBEAT_MS');
  if (e.RETRY_MAX_MS < e.RETRY_BASE_MS) throw new ConfigError('RETRY_MAX_MS must be at least RETRY_BASE_MS');
  if (e.GATEWAY_PORT !== 0 && e.GATEWAY_PORT === e.HTTP_PORT) throw new ConfigError('GATEWAY_PORT and HTTP_PORT must differ');
  const durability = parseDurability(e.DURABILITY, e.DURABILITY_TIMEOUT_MS);
  if (durability.kind === 'replicas') {
    if (!redisTarget) throw new ConfigError(`DURABILITY=${e.DURABILITY} needs REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES: the embedded Redis has no replicas`);
    // A WAIT holds the gateway's connection (node heartbeats included) for up to this long.
    if (e.NODE_HEARTBEAT_MS + e.DURABILITY_TIMEOUT_MS >= e.NODE_TIMEOUT_MS) {
      throw new ConfigError('DURABILITY_TIMEOUT_MS plus NODE_HEARTBEAT_MS must be less than NODE_TIMEOUT_MS');
    }
  }
  const tls = tlsFiles(e.TLS_CERT_FILE, e.TLS_KEY_FILE, e.TLS_CA_FILE);
  if (e.AUTH_BACKOFF_MAX_MS < e.AUTH_BACKOFF_BASE_MS) throw new ConfigError('AUTH_BACKOFF_MAX_MS must be at least AUTH_BACKOFF_BASE_MS');
  const trustedProxies = (e.TRUSTED_PROXIES ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
  try {
    parseTrustedProxies(trustedProxies);
  } catch (err) {
    throw new ConfigError(`TRUSTED_PROXIES: ${(err as Error).message}`);
  }
  let vendorPublicKeys: KeyObject[] = [];
  if (e.VENDOR_PUBLIC_KEYS) {
    try {
      vendorPublicKeys = loadPublicKeys(e.VENDOR_PUBLIC_KEYS);
    } catch (err) {
      throw new ConfigError(`VENDOR_PUBLIC_KEYS: ${(err as Error).message}`);
    }
  }
  return {
    redisTarget,
    gatewayHost: e.GATEWAY_HOST,
    gatewayPort: e.GATEWAY_PORT,
    httpPort: e.HTTP_PORT,
    dataDir: resolve(e.DATA_DIR),
    enrollmentToken: e.ENROLLMENT_TOKEN,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_MS,
    helloTimeoutMs: e.HELLO_TIMEOUT_MS,
    maxFrameBytes: e.MAX_FRAME_BYTES,
    framesPerSecond: e.FRAMES_PER_SECOND,
    frameBurst: e.FRAME_BURST,
    lastSeenFlushMs: e.LAST_SEEN_FLUSH_MS,
    nodeHeartbeatMs: e.NODE_HEARTBEAT_MS,
    nodeTimeoutMs: e.NODE_TIMEOUT_MS,
    keyPrefix: e.KEY_PREFIX,
    queuePrefix: e.QUEUE_PREFIX,
    adminConcurrency: e.ADMIN_CONCURRENCY,
    runWorkers: e.RUN_WORKERS === 'true',
    maxHandshakes: e.MAX_HANDSHAKES,
    maxEnrollments: e.MAX_ENROLLMENTS,
    maxConnections: e.MAX_CONNECTIONS,
    helloQueueMax: e.HELLO_QUEUE_MAX,
    helloQueueWaitMs: e.HELLO_QUEUE_WAIT_MS,
    retryBaseMs: e.RETRY_BASE_MS,
    retryMaxMs: e.RETRY_MAX_MS,
    vendorPublicKeys,
    osLicenseMap: e.OS_LICENSE_MAP_FILE ? loadOsLicenseMap(e.OS_LICENSE_MAP_FILE) : DEFAULT_OS_LICENSE_MAP,
    reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
    clockOffsetMs: e.CLOCK_OFFSET_MS,
    ledgerUpkeepMs: e.LEDGER_UPKEEP_MS,
    durability,
    durabilityCheck: e.DURABILITY_CHECK,
    drainSeconds: e.DRAIN_SECONDS,
    drainNoticeMs: e.DRAIN_NOTICE_MS,
    retention: {
      auditRetentionMs: Math.round(e.AUDIT_RETENTION_DAYS * DAY_MS),
      auditMaxEntries: e.AUDIT_MAX_ENTRIES,
      eventsRetentionMs: Math.round(e.EVENTS_RETENTION_DAYS * DAY_MS),
      eventsMaxEntries: e.EVENTS_MAX_ENTRIES,
      uninstalledRetentionMs: Math.round(e.UNINSTALLED_RETENTION_DAYS * DAY_MS),
      jobsRetentionMs: Math.round(e.JOBS_RETENTION_DAYS * DAY_MS),
      batch: e.RETENTION_BATCH,
    },
    tenantEnrollRate: e.TENANT_ENROLL_RATE,
    tenantEnrollBurst: e.TENANT_ENROLL_BURST,
    authAuditWindowMs: e.AUTH_AUDIT_WINDOW_MS,
    devLicense: e.DEV_LICENSE,
    tls,
    maxUnauthenticated: e.MAX_UNAUTHENTICATED,
    maxUnauthenticatedPerSource: e.MAX_UNAUTHENTICATED_PER_SOURCE,
    authFailuresPerSource: e.AUTH_FAILURES_PER_SOURCE,
    authFailureWindowMs: e.AUTH_FAILURE_WINDOW_MS,
    authBackoffBaseMs: e.AUTH_BACKOFF_BASE_MS,
    authBackoffMaxMs: e.AUTH_BACKOFF_MAX_MS,
    trustedProxies,
    maxSendBufferBytes: e.MAX_SEND_BUFFER_BYTES,
    http: {
      ...DEFAULT_HTTP_LIMITS,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxHeadersCount: e.HTTP_MAX_HEADERS,
      idleTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
    },
    sseMaxStreams: e.SSE_MAX_STREAMS,
    sessionIdleMs: Math.round(e.SESSION_IDLE_MINUTES * 60_000),
    sessionMaxMs: Math.round(e.SESSION_MAX_HOURS * 3_600_000),
    metrics: { enabled: e.METRICS === 'on', token: e.METRICS_TOKEN, tenantLabels: e.METRICS_TENANT_LABELS, cacheMs: e.METRICS_CACHE_MS },
    console: e.CONSOLE === 'on',
  };
}

/** Both of cert and key or neither; the files must make a working certificate now (read again at start and on SIGHUP). */
function tlsFiles(certFile: string | undefined, keyFile: string | undefined, caFile: string | undefined): TlsFiles | undefined {
  if (certFile === undefined && keyFile === undefined) {
    if (caFile !== undefined) throw new ConfigError('TLS_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE (client certificates are checked only over TLS)');
    return undefined;
  }
  if (certFile === undefined) throw new ConfigError('TLS_KEY_FILE is set but TLS_CERT_FILE is not: set both (TLS) or neither (plain ws://)');
  if (keyFile === undefined) throw new ConfigError('TLS_CERT_FILE is set but TLS_KEY_FILE is not: set both (TLS) or neither (plain ws://)');
  const files: TlsFiles = { certFile: resolve(certFile), keyFile: resolve(keyFile), ...(caFile !== undefined ? { caFile: resolve(caFile) } : {}) };
  try {
    loadTls(files);
  } catch (err) {
    throw new ConfigError(`${(err as { code?: string }).code ?? 'TLS_INVALID'}: ${(err as Error).message}`);
  }
  return files;
}
