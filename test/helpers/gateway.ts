/** Starts an in-process gateway node on port 0 against the project's Redis (redisTarget). */
import { pino } from 'pino';
import { GatewayServer } from '../../src/gateway/gateway-server.ts';
import type { GatewayOptions } from '../../src/gateway/gateway-options.ts';
import type { LedgerContext } from '../../src/licensing/ledger-context.ts';
import type { LicenseTypeName } from '../../src/licensing/license-types.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { activatePool, ledgerContext } from './ledger.ts';
import { connectRedis, newKeys } from './redis.ts';

export interface TestGateway {
  gateway: GatewayServer;
  url: string;
  redis: RedisClient;
  keys: Keys;
  ctx: LedgerContext;
  token: string;
  stop(): Promise<void>;
}

export const TEST_TOKEN = 'test-enrollment-token-0001';

/**
 * For tests that snapshot Redis to prove an action changed nothing: the node heartbeat (a timer
 * that rewrites this node's score in the node registry every 5 s) stays out of the snapshot's
 * way. On a slower engine (a Cluster) a test crosses that tick often enough to flake.
 */
export const QUIET_NODE = { nodeHeartbeatMs: 600_000, nodeTimeoutMs: 1_200_000 } as const;

export async function startTestGateway(
  opts: { pool?: Partial<Record<LicenseTypeName, number>>; keys?: Keys; gateway?: Partial<GatewayOptions> } = {},
): Promise<TestGateway> {
  const redis = await connectRedis();
  const keys = opts.keys ?? newKeys('gw');
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  const token = TEST_TOKEN;
  const ctx = ledgerContext(redis, keys);
  if (opts.pool) await activatePool(ctx, opts.pool);
  const gateway = new GatewayServer({ redis, keys, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), port: 0, ...opts.gateway });
  const address = await gateway.start();
  return {
    gateway,
    url: `${opts.gateway?.tls ? 'wss' : 'ws'}://127.0.0.1:${address.port}`, // tls: SPEC Z1 (test-certs.ts)
    redis,
    keys,
    ctx,
    token,
    async stop() {
      await gateway.stop();
      redis.disconnect();
    },
  };
}

/** Polls until check() is true; fails with `what` after timeoutMs. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
