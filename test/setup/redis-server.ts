/**
 * Global setup: one real redis-server (Debian's package) on a free port for the whole run, no
 * persistence. Each test file isolates itself with its own key prefix (test/helpers/redis.ts).
 */
import type { TestProject } from 'vitest/node';
import { startEmbeddedRedis } from '../../src/store/embedded-redis.ts';
import './provided-context.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await startEmbeddedRedis({ persist: false });
  project.provide('redisUrl', redis.url);
  project.provide('redisTarget', { kind: 'single', url: redis.url });
  return () => redis.stop();
}
