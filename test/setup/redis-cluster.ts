/**
 * Global setup for a project that runs suites on a real Redis Cluster: 3 masters + 3 replicas
 * (chaos/lib/redis-cluster.ts) started once for the run in a temp dir, provided to tests as
 * `redisTarget: {kind: 'cluster', nodes}`. AOF everysec only because nodes need a directory to
 * restart from; the directory is removed at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { Scope } from '../../bench/lib/scope.ts';
import { RedisClusterTopology } from '../../chaos/lib/redis-cluster.ts';
import './provided-context.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const scope = new Scope();
  const dir = mkdtempSync(join(tmpdir(), 'lg-test-cluster-'));
  const teardown = async () => {
    await scope.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const cluster = await RedisClusterTopology.start(scope, { dir });
    project.provide('redisTarget', { kind: 'cluster', nodes: cluster.seedNodes() });
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
