/** Starts an in-process gateway node on port 0 against the test redis-server. */
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { GatewayServer } from '../../src/gateway/gateway-server.ts';
import type { GatewayOptions } from '../../src/gateway/gateway-options.ts';
import type { EndpointLicenseType } from '../../src/licensing/license-types.ts';
import { setPool } from '../../src/licensing/pools.ts';
import { DEFAULT_TENANT_ID, ensureTenant } from '../../src/licensing/tenants.ts';
import type { Keys } from '../../src/store/keys.ts';
import { connectRedis, newKeys } from './redis.ts';

export interface TestGateway {
  gateway: GatewayServer;
  url: string;
  redis: Redis;
  keys: Keys;
  token: string;
  stop(): Promise<void>;
}

export const TEST_TOKEN = 'test-enrollment-token-0001';

export async function startTestGateway(
  opts: { pool?: Partial<Record<EndpointLicenseType, number>>; keys?: Keys; gateway?: Partial<GatewayOptions> } = {},
): Promise<TestGateway> {
  const redis = await connectRedis();
  const keys = opts.keys ?? newKeys('gw');
  const token = await ensureTenant(redis, keys, DEFAULT_TENANT_ID, { enrollmentToken: TEST_TOKEN });
  for (const [type, n] of Object.entries(opts.pool ?? {})) await setPool(redis, keys, DEFAULT_TENANT_ID, type as EndpointLicenseType, n);
  const gateway = new GatewayServer({ redis, keys, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), port: 0, ...opts.gateway });
  const address = await gateway.start();
  return {
    gateway,
    url: `ws://127.0.0.1:${address.port}`,
    redis,
    keys,
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
