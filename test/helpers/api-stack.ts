/**
 * A real `licensegate serve` process with the admin HTTP API (SPEC H1) on the project's Redis,
 * under a fresh key prefix, plus real accounts (test/helpers/accounts.ts) to call it as.
 */
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import type { Permission } from '../../src/licensing/permissions.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { createTestAccount } from './accounts.ts';
import { TEST_TOKEN } from './gateway.ts';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.ts';
import { vendor } from './ledger.ts';
import { connectRedis, newKeys, redisEnv } from './redis.ts';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body (undefined when not JSON). */
  json: unknown;
}

export interface ApiStack {
  gw: GatewayProcess;
  redis: RedisClient;
  keys: Keys;
  /** `http://127.0.0.1:<port>` of the HTTP port. */
  base: string;
  account(tenantId: string, permissions: readonly Permission[]): Promise<{ id: string; token: string }>;
  call(token: string | null, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer>;
  stop(): Promise<void>;
}

export async function startApiStack(label: string, env: Record<string, string> = {}): Promise<ApiStack> {
  const keys = newKeys(label);
  const redis = await connectRedis();
  const gw = await startGatewayProcess({
    ...redisEnv(),
    KEY_PREFIX: keys.prefix,
    QUEUE_PREFIX: keys.queuePrefix,
    ENROLLMENT_TOKEN: TEST_TOKEN,
    VENDOR_PUBLIC_KEYS: vendor.publicKeyPem,
    GATEWAY_HOST: '127.0.0.1',
    ...env,
  });
  const base = gw.healthUrl.replace(/\/healthz$/, '');
  return {
    gw,
    redis,
    keys,
    base,
    async account(tenantId, permissions) {
      const { account, apiToken } = await createTestAccount(redis, keys, { tenantId, permissions });
      return { id: account.id, token: apiToken };
    },
    async call(token, method, path, body, headers = {}) {
      const h: Record<string, string> = { ...headers };
      if (token) h.authorization = `Bearer ${token}`;
      if (body !== undefined) h['content-type'] = 'application/json';
      const res = await fetch(`${base}/api/v1${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, text, json };
    },
    async stop() {
      await gw.stop();
      redis.disconnect();
    },
  };
}

export { DEFAULT_TENANT };
