/**
 * licensegate's admin-job worker alone in its process (the gateway runs with RUN_WORKERS=false):
 * the same startAdminWorker that `licensegate serve` runs, configured from the same environment
 * (REDIS_URL, KEY_PREFIX, QUEUE_PREFIX, VENDOR_PUBLIC_KEYS, ADMIN_CONCURRENCY, DURABILITY).
 */
import { loadConfig } from '../../src/config.ts';
import { startAdminWorker } from '../../src/jobs/admin-worker.ts';
import type { LedgerContext } from '../../src/licensing/ledger-context.ts';
import { createLogger } from '../../src/log.ts';
import { Keys } from '../../src/store/keys.ts';
import { createRedis, waitReady } from '../../src/store/redis-connection.ts';
import { serveRequests } from '../lib/ipc.ts';

const config = loadConfig();
if (!config.redisTarget) throw new Error('REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES is required');
const logger = createLogger(config.logLevel, 'json');
// In the connections' DURABILITY mode, as `licensegate serve` creates them (a result waits for its
// WAIT); the ledger's connection auto-pipelined like serve's (its worker shares the gateway's).
const redis = createRedis(config.redisTarget, { connectionName: 'licensegate:bench-worker', autoPipelining: true, durability: config.durability });
const bull = createRedis(config.redisTarget, { connectionName: 'licensegate:bench-worker-bull', maxRetriesPerRequest: null, durability: config.durability });
for (const c of [redis, bull]) c.on('error', (err) => logger.error({ err }, 'redis connection error'));
await waitReady(redis);
const keys = new Keys(config.keyPrefix, config.queuePrefix);
const ctx: LedgerContext = { redis, keys, vendorKeys: config.vendorPublicKeys };
const worker = startAdminWorker(bull, keys.queuePrefix, ctx, logger, { concurrency: config.adminConcurrency });
await worker.waitUntilReady();

serveRequests(
  {
    close: async () => {
      await worker.close();
      await redis.quit().catch(() => redis.disconnect());
      await bull.quit().catch(() => bull.disconnect());
      return {};
    },
  },
  { concurrency: config.adminConcurrency },
);
