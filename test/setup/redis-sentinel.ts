/**
 * Global setup for a project that runs suites on a real Sentinel setup: 1 primary + 2 replicas
 * + 3 redis-sentinel processes (chaos/lib/redis-sentinel.ts) started once for the run in a temp
 * dir, provided to tests as `redisTarget: {kind: 'sentinel', sentinels, name}`. The directory is
 * removed at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { Scope } from '../../bench/lib/scope.ts';
import { RedisSentinelTopology } from '../../chaos/lib/redis-sentinel.ts';
import './provided-context.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const scope = new Scope();
  const dir = mkdtempSync(join(tmpdir(), 'lg-test-sentinel-'));
  const teardown = async () => {
    await scope.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const setup = await RedisSentinelTopology.start(scope, { dir });
    project.provide('redisTarget', { kind: 'sentinel', sentinels: setup.sentinels(), name: setup.name });
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
