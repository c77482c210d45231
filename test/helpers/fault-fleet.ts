/**
 * Fault tests' own deployment: a private redis-server (so pausing or killing it never touches
 * the shared one of the test run), provisioned like the multi-process tests, and the env that
 * points gateway processes at it.
 */
import { afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import type { LicenseTypeName } from '../../src/licensing/license-types.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { startEmbeddedRedis } from '../../src/store/embedded-redis.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import { createRedis, waitReady } from '../../src/store/redis-connection.ts';
import { TEST_TOKEN } from './gateway.ts';
import { activatePool, ledgerContext } from './ledger.ts';
import { uniquePrefix } from './redis.ts';

export interface PrivateRedis {
  url: string;
  pid: number;
  /** A test connection (scripts defined). */
  redis: Redis;
  /** SIGSTOP: the server keeps its sockets but answers nothing. */
  pause(): void;
  /** SIGCONT (harmless when not paused). */
  resume(): void;
  stop(): Promise<void>;
}

const started = new Set<PrivateRedis>();
// A failed test never leaves a paused or running redis-server behind.
afterAll(async () => {
  await Promise.all([...started].map((r) => r.stop()));
});

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const server = await startEmbeddedRedis({ persist: false });
  const pid = server.pid!;
  const redis = createRedis(server.url, { connectionName: 'licensegate:test' });
  redis.on('error', () => {});
  await waitReady(redis);
  const resume = () => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      /* already gone */
    }
  };
  const handle: PrivateRedis = {
    url: server.url,
    pid,
    redis,
    pause: () => process.kill(pid, 'SIGSTOP'),
    resume,
    async stop() {
      if (!started.delete(handle)) return;
      resume();
      redis.disconnect();
      await server.stop();
    },
  };
  started.add(handle);
  return handle;
}

/** A fresh deployment (tenant + licenses) under its own key prefix. */
export async function provision(redis: Redis, pool: Partial<Record<LicenseTypeName, number>>): Promise<{ prefix: string; keys: Keys }> {
  const prefix = uniquePrefix('ft');
  const keys = new Keys(prefix, `{${prefix}}`);
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  await activatePool(ledgerContext(redis, keys), pool);
  return { prefix, keys };
}

/** Env of a gateway-only process on that deployment. */
export function gatewayEnv(url: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: url,
    KEY_PREFIX: prefix,
    QUEUE_PREFIX: `{${prefix}}`,
    ENROLLMENT_TOKEN: TEST_TOKEN,
    RUN_WORKERS: 'false',
    ...extra,
  };
}

/** Samples `check` every intervalMs for durationMs; fails at the first false with `what`. */
export async function holdsFor(check: () => Promise<boolean>, what: string, durationMs: number, intervalMs = 100): Promise<void> {
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    if (!(await check())) throw new Error(`stopped holding: ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
