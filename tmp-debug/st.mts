import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scope } from '/work/wt-ha-suites/bench/lib/scope.ts';
import { RedisClusterTopology } from '/work/wt-ha-suites/chaos/lib/redis-cluster.ts';
import { RedisSentinelTopology } from '/work/wt-ha-suites/chaos/lib/redis-sentinel.ts';
for (const kind of ['cluster', 'sentinel', 'cluster', 'sentinel']) {
  const scope = new Scope();
  const t0 = Date.now();
  if (kind === 'cluster') await RedisClusterTopology.start(scope, { dir: mkdtempSync(join(tmpdir(), 'hs-')) });
  else await RedisSentinelTopology.start(scope, { dir: mkdtempSync(join(tmpdir(), 'hs-')) });
  const t1 = Date.now();
  await scope.close();
  console.log(kind, 'start', t1 - t0, 'ms; stop', Date.now() - t1, 'ms');
}
