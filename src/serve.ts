/**
 * `licensegate serve`: Redis (embedded when REDIS_URL is unset), the default tenant and its
 * configured pool, one gateway node and the health endpoints, stopped in reverse order.
 */
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { GatewayServer } from './gateway/gateway-server.ts';
import { startHealthServer } from './gateway/health-server.ts';
import type { EndpointLicenseType } from './licensing/license-types.ts';
import { setPool } from './licensing/pools.ts';
import { DEFAULT_TENANT_ID, ensureTenant } from './licensing/tenants.ts';
import { startEmbeddedRedis, type EmbeddedRedis } from './store/embedded-redis.ts';
import { Keys } from './store/keys.ts';
import { createRedis, waitReady } from './store/redis-connection.ts';

export interface RunningService {
  wsUrl: string;
  healthUrl: string;
  redisUrl: string;
  enrollmentToken: string;
  nodeId: string;
  stop(): Promise<void>;
}

export async function serve(config: Config, logger: Logger): Promise<RunningService> {
  let embedded: EmbeddedRedis | undefined;
  let redisUrl = config.redisUrl;
  if (!redisUrl) {
    embedded = await startEmbeddedRedis({ dataDir: config.dataDir });
    redisUrl = embedded.url;
    logger.info({ redisUrl, owned: embedded.owned, dataDir: config.dataDir }, 'embedded redis ready');
  }
  const redis = createRedis(redisUrl, { connectionName: 'licensegate:gateway' });
  redis.on('error', (err) => logger.error({ err }, 'redis connection error'));
  try {
    await waitReady(redis);
    const keys = new Keys(config.keyPrefix);
    const enrollmentToken = await ensureTenant(redis, keys, DEFAULT_TENANT_ID, { enrollmentToken: config.enrollmentToken });
    if (config.licensePool) {
      for (const [type, count] of Object.entries(config.licensePool) as [EndpointLicenseType, number][]) {
        const { granted } = await setPool(redis, keys, DEFAULT_TENANT_ID, type, count);
        if (granted !== count) logger.warn({ type, wanted: count, granted }, 'pool not lowered below what is assigned');
      }
    }
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
      osLicenseMap: config.osLicenseMap,
    });
    const ws = await gateway.start();
    const health = await startHealthServer(config.gatewayHost, config.httpPort, gateway);
    const host = ws.address.includes(':') ? `[${ws.address}]` : ws.address;
    let stopped = false;
    return {
      wsUrl: `ws://${host}:${ws.port}`,
      healthUrl: `http://${host}:${health.address.port}`,
      redisUrl,
      enrollmentToken,
      nodeId: gateway.nodeId,
      async stop() {
        if (stopped) return;
        stopped = true;
        await gateway.stop();
        await new Promise<void>((resolve) => health.server.close(() => resolve()));
        await redis.quit().catch(() => redis.disconnect());
        if (embedded) await embedded.stop();
      },
    };
  } catch (err) {
    redis.disconnect();
    if (embedded) await embedded.stop();
    throw err;
  }
}
