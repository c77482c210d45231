/**
 * `licensegate serve`: Redis (embedded when REDIS_URL is unset), the default tenant, the
 * ledger's start-up duties (finish interrupted sagas, expire keys that ended while nothing
 * ran, reschedule the rest, register the periodic upkeep),
 * the scheduler and admin-job workers, one gateway node and the health endpoints — stopped in
 * reverse order.
 */
import type { Logger } from 'pino';
import { setClockOffset, wallClock } from './clock.ts';
import type { Config } from './config.ts';
import { GatewayServer } from './gateway/gateway-server.ts';
import type { DrainReport } from './gateway/drain.ts';
import { startHealthServer } from './gateway/health-server.ts';
import { buildConsole, type ConsoleBundle } from './console/console-bundle.ts';
import { consoleHandler } from './console/console-handler.ts';
import { startAdminHttpService } from './http/admin-http-service.ts';
import { createAuthenticator } from './accounts/authenticator.ts';
import { bootstrapAdmin } from './accounts/bootstrap.ts';
import { setupPageHandler } from './accounts/setup-page.ts';
import { setupUrl } from './accounts/setup-tokens.ts';
import { loadTls } from './gateway/tls-context.ts';
import { reloadTls, type TlsReload } from './gateway/tls-reload.ts';
import { startAdminWorker } from './jobs/admin-worker.ts';
import { LedgerScheduler, startSchedulerWorker } from './jobs/scheduler.ts';
import { activateDevLicense, loadTrustedDevLicense, warnUntrustedDevKey } from './licensing/dev-license.ts';
import { devLicenseTrusted } from './licensing/dev-license-mode.ts';
import { removeCleartextTokens } from './licensing/enrollment-tokens.ts';
import type { LedgerContext } from './licensing/ledger-context.ts';
import { resumeLedger } from './licensing/resume-ledger.ts';
import { listSerialKeys } from './licensing/serial-key-ledger.ts';
import { ensureTenant } from './licensing/tenants.ts';
import { appendfsyncFor, verifyRedisDurability } from './store/durability.ts';
import { startEmbeddedRedis, type EmbeddedRedis } from './store/embedded-redis.ts';
import { DEFAULT_TENANT, Keys } from './store/keys.ts';
import { createRedis, waitReady } from './store/redis-connection.ts';
import type { HttpHandler } from './gateway/health-server.ts';
import { NOOP_METRICS, type Metrics } from './metrics/instruments.ts';
import { LicensePools } from './metrics/license-pools.ts';
import { metricsEndpoint } from './metrics/metrics-endpoint.ts';
import { PromMetrics } from './metrics/prom-metrics.ts';
import { pingRedis } from './metrics/redis-ping.ts';
import { describeTarget, singleTarget, type RedisTarget } from './store/redis-target.ts';
import { startupFailure, type StartupSettings, type StartupStep } from './startup-error.ts';

export interface RunningService {
  wsUrl: string;
  healthUrl: string;
  /** The web console's address (`<http>/`), undefined with CONSOLE=off (SPEC H5). */
  consoleUrl: string | undefined;
  /** The Redis this service uses (the embedded one: a single target with its URL). */
  redisTarget: RedisTarget;
  /**
   * The default tenant's enrollment token when this start made it (first zero-config start):
   * shown once on the ready line. Undefined otherwise — an existing token is stored only as a
   * hash, and ENROLLMENT_TOKEN is the operator's own (SPEC Z2).
   */
  enrollmentToken: string | undefined;
  /**
   * The technician's one-time set-up link when this start made one (SPEC H2: no account had a
   * password yet; zero-config mode only, like the enrollment token): shown once on stdout.
   */
  adminSetupUrl: string | undefined;
  nodeId: string;
  /**
   * Graceful drain (SPEC X4) before stop(): `/readyz` fails at once, then the agents are handed to
   * the other gateways over DRAIN_SECONDS (after DRAIN_NOTICE_MS). Resolves when they are closed,
   * or at once when `signal` aborts; null when DRAIN_SECONDS is 0 (no drain: stop() closes all).
   */
  drain(signal?: AbortSignal): Promise<DrainReport | null>;
  /** SIGHUP (SPEC Z1): reread the TLS files; new handshakes use them, open connections stay. */
  reloadTls(): TlsReload;
  stop(): Promise<void>;
}

export async function serve(config: Config, logger: Logger): Promise<RunningService> {
  setClockOffset(config.clockOffsetMs);
  if (config.clockOffsetMs !== 0) logger.warn({ clockOffsetMs: config.clockOffsetMs }, 'CLOCK_OFFSET_MS shifts this process wall clock (fault testing)');
  let embedded: EmbeddedRedis | undefined;
  let redisTarget = config.redisTarget;
  // Only these steps may stop start-up, each with a recovery hint (src/startup-error.ts).
  let step: StartupStep = 'embedded-redis';
  const settings: StartupSettings = { ...config, embedded: !config.redisTarget };
  if (!redisTarget) {
    embedded = await startEmbeddedRedis({ dataDir: config.dataDir, appendfsync: appendfsyncFor(config.durability) }).catch((err: unknown) => {
      throw startupFailure('embedded-redis', err, settings);
    });
    redisTarget = singleTarget(embedded.url);
    logger.info({ redis: embedded.address, owned: embedded.owned, protection: embedded.protection, dataDir: config.dataDir }, 'embedded redis ready');
    if (embedded.protection === 'password-applied') {
      logger.warn({ redis: embedded.address }, 'the running embedded Redis of an older version had no password: it requires the one in DATA_DIR/redis.secret from now on');
    }
  }
  const durability = config.durability;
  if (config.redisTarget) logger.info({ redis: describeTarget(config.redisTarget) }, 'connecting to redis');
  const redis = createRedis(redisTarget, { connectionName: 'licensegate:gateway', autoPipelining: true, durability });
  // BullMQ needs its own connection that never gives up on a request.
  const bull = createRedis(redisTarget, { connectionName: 'licensegate:scheduler', maxRetriesPerRequest: null, durability });
  for (const c of [redis, bull]) c.on('error', (err) => logger.error({ err }, 'redis connection error'));
  // SPEC H4 (docs/metrics.md): METRICS=off leaves every component on the no-op instruments.
  const prom = config.metrics.enabled ? new PromMetrics() : undefined;
  const metrics: Metrics = prom ?? NOOP_METRICS;
  if (prom) {
    redis.on('reconnecting', () => metrics.redisReconnect('gateway'));
    bull.on('reconnecting', () => metrics.redisReconnect('bullmq'));
  }
  const httpHandlers: HttpHandler[] = [];
  // SPEC H5: the console is built while Redis starts; a failure stops start-up at step 'console'.
  const consoleBuild: Promise<ConsoleBundle | Error> | undefined = config.console ? buildConsole().catch((err: unknown) => err as Error) : undefined;
  const stack: (() => Promise<unknown>)[] = [];
  const unwind = async () => {
    for (const fn of stack.reverse()) await fn().catch((err: unknown) => logger.error({ err }, 'shutdown step failed'));
    stack.length = 0;
  };
  stack.push(async () => (embedded ? embedded.stop() : undefined));
  stack.push(async () => {
    for (const c of [redis, bull]) {
      // QUIT waits for a reply; a Redis that is already gone would never give one.
      if (c.status === 'ready') await Promise.race([c.quit().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
      c.disconnect();
    }
  });
  try {
    step = 'redis';
    await waitReady(redis);
    step = 'durability';
    await verifyRedisDurability(redis, durability, { check: config.durabilityCheck, logger });
    step = 'default-tenant';
    const keys = new Keys(config.keyPrefix, config.queuePrefix);
    if ((await removeCleartextTokens(redis, keys, logger)) > 0 && embedded) {
      // The AOF still holds the old HSETs with the cleartext until it is rewritten (docs/secrets.md).
      await redis.call('BGREWRITEAOF').catch((err: unknown) => logger.warn({ err: { message: (err as Error).message } }, 'could not rewrite the AOF after removing cleartext tokens; run BGREWRITEAOF'));
    }
    const made = await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: config.enrollmentToken });
    // A token made now is shown once, on the ready line, in the zero-config mode only: a
    // deployment's stdout goes to log collectors, where it gets one with `tenants rotate-token`.
    const newToken = config.enrollmentToken === undefined ? made : undefined;
    const enrollmentToken = config.redisTarget ? undefined : newToken;
    if (newToken !== undefined && config.redisTarget) {
      logger.warn({ tenant: DEFAULT_TENANT }, 'the default tenant got a new enrollment token; it is not shown: make one with `licensegate admin tenants rotate-token default`, or set ENROLLMENT_TOKEN');
    }
    // SPEC H2: the first admin account (technician) and its set-up link while it has no password.
    const adminSetup = await bootstrapAdmin(redis, keys, logger, { showLink: !config.redisTarget });
    const scheduler = new LedgerScheduler(bull, keys.queuePrefix);
    stack.push(() => scheduler.close());
    const vendorKeys = [...config.vendorPublicKeys];
    const devTrusted = devLicenseTrusted(config.devLicense, !config.redisTarget);
    const dev = devTrusted ? loadTrustedDevLicense(config.dataDir, config.devLicense, logger) : undefined;
    if (dev) vendorKeys.push(dev.publicKey);
    const ctx: LedgerContext = { redis, keys, vendorKeys, scheduler, now: wallClock };
    if (dev) await activateDevLicense(ctx, dev, logger);
    // Sagas a crash interrupted and keys that ended while nothing ran (F2, S4); then the same
    // upkeep periodically. Stored state never stops start-up: failures are logged and retried.
    try {
      await resumeLedger(ctx, logger);
      const serials = await listSerialKeys(ctx);
      await scheduler.scheduleAll(serials);
      if (!devTrusted) warnUntrustedDevKey(serials, logger);
    } catch (err) {
      logger.error({ err, recovery: `the ledger upkeep retries every ${config.ledgerUpkeepMs} ms; see the error` }, 'ledger start-up duties failed; the gateway starts anyway');
    }
    await scheduler.startUpkeep(config.ledgerUpkeepMs).catch((err: unknown) => logger.error({ err }, 'could not register the ledger upkeep job'));
    if (config.runWorkers) {
      const worker = startSchedulerWorker(bull, keys.queuePrefix, ctx, logger, config.retention);
      stack.push(() => worker.close());
      const adminWorker = startAdminWorker(bull, keys.queuePrefix, ctx, logger, { concurrency: config.adminConcurrency, metrics });
      stack.push(() => adminWorker.close());
    }

    step = 'tls';
    // Read again here (loadConfig checked them): the files may have changed since.
    const tls = config.tls ? loadTls(config.tls) : null;
    const gateway = new GatewayServer({
      redis,
      keys,
      logger,
      host: config.gatewayHost,
      port: config.gatewayPort,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      helloTimeoutMs: config.helloTimeoutMs,
      maxPayloadBytes: config.maxFrameBytes,
      framesPerSecond: config.framesPerSecond,
      frameBurst: config.frameBurst,
      lastSeenFlushMs: config.lastSeenFlushMs,
      nodeHeartbeatMs: config.nodeHeartbeatMs,
      nodeTimeoutMs: config.nodeTimeoutMs,
      reconcileIntervalMs: config.reconcileIntervalMs,
      osLicenseMap: config.osLicenseMap,
      maxHandshakes: config.maxHandshakes,
      maxEnrollments: config.maxEnrollments,
      maxConnections: config.maxConnections,
      helloQueueMax: config.helloQueueMax,
      helloQueueWaitMs: config.helloQueueWaitMs,
      retryBaseMs: config.retryBaseMs,
      retryMaxMs: config.retryMaxMs,
      enrollRate: config.tenantEnrollRate,
      enrollBurst: config.tenantEnrollBurst,
      authAuditWindowMs: config.authAuditWindowMs,
      tls,
      maxUnauthenticated: config.maxUnauthenticated,
      maxUnauthenticatedPerSource: config.maxUnauthenticatedPerSource,
      authFailuresPerSource: config.authFailuresPerSource,
      authFailureWindowMs: config.authFailureWindowMs,
      authBackoffBaseMs: config.authBackoffBaseMs,
      authBackoffMaxMs: config.authBackoffMaxMs,
      trustedProxies: config.trustedProxies,
      maxSendBufferBytes: config.maxSendBufferBytes,
      http: config.http,
      metrics,
    });
    step = 'gateway';
    const ws = await gateway.start();
    stack.push(() => gateway.stop());
    step = 'health';
    // The admin HTTP API (SPEC H1) on the HTTP port, authenticated by account (H2).
    const sessionTimes = { idleMs: config.sessionIdleMs, maxMs: config.sessionMaxMs };
    const adminHttp = startAdminHttpService({ ctx, redisTarget, trustedProxies: config.trustedProxies, authenticator: createAuthenticator({ redis, keys, sessionTimes }), sessionTimes, logger, sseMaxStreams: config.sseMaxStreams });
    stack.push(() => adminHttp.close());
    httpHandlers.push(setupPageHandler, adminHttp.handler);
    if (consoleBuild) {
      step = 'console';
      const built = await consoleBuild;
      if (built instanceof Error) throw built;
      logger.info({ buildMs: built.buildMs, jsBytes: built.js.body.length, cssBytes: built.css.body.length }, 'web console built');
      httpHandlers.push(consoleHandler(built));
      step = 'health';
    }
    if (prom) {
      prom.watchConnections(gateway);
      new LicensePools(ctx, { topTenants: config.metrics.tenantLabels, cacheMs: config.metrics.cacheMs }, prom.registry);
      httpHandlers.push(metricsEndpoint({ registry: prom.registry, token: config.metrics.token, beforeScrape: () => pingRedis(redis, metrics) }));
    }
    const health = await startHealthServer(config.gatewayHost, config.httpPort, gateway, tls, config.http, httpHandlers);
    stack.push(() => new Promise<void>((resolve) => health.server.close(() => resolve())));
    // First of all at stop: open event streams would keep the server's close waiting (SPEC H3).
    stack.push(() => adminHttp.endStreams());
    const host = ws.address.includes(':') ? `[${ws.address}]` : ws.address;
    const healthUrl = `${config.tls ? 'https' : 'http'}://${host}:${health.address.port}`;
    if (config.tls) logger.info({ certificate: tls!.certificate, clientCertificates: config.tls.caFile !== undefined }, 'tls enabled');
    return {
      wsUrl: `${config.tls ? 'wss' : 'ws'}://${host}:${ws.port}`,
      healthUrl,
      consoleUrl: config.console ? `${healthUrl}/` : undefined,
      redisTarget,
      enrollmentToken,
      adminSetupUrl: adminSetup.setupToken === undefined ? undefined : setupUrl(healthUrl, adminSetup.setupToken),
      nodeId: gateway.nodeId,
      drain: async (signal) => (config.drainSeconds > 0 ? gateway.drain({ noticeMs: config.drainNoticeMs, windowMs: config.drainSeconds * 1000 }, signal) : null),
      reloadTls: () => reloadTls(config.tls, [gateway, health.server], logger),
      stop: unwind,
    };
  } catch (err) {
    await unwind();
    throw startupFailure(step, err, settings);
  }
}
