/**
 * Global setup: one real redis-server (Debian's package) on a free port for the whole run, no
 * persistence. Each test file isolates itself with its own key prefix (test/helpers/redis.ts).
 */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startEmbeddedRedis } from '../../src/store/embedded-redis.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await startEmbeddedRedis({ persist: false });
  project.provide('redisUrl', redis.url);
  return () => redis.stop();
}
