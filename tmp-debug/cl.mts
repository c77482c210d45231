import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scope } from '/work/wt-ha-suites/bench/lib/scope.ts';
import { RedisClusterTopology } from '/work/wt-ha-suites/chaos/lib/redis-cluster.ts';
import { spawnSync } from 'node:child_process';
import { targetEnv, clearedTargetEnv } from '/work/wt-ha-suites/src/store/redis-target.ts';
const scope = new Scope();
try {
  const c = await RedisClusterTopology.start(scope, { dir: mkdtempSync(join(tmpdir(), 'hs-')) });
  const env = { ...process.env, ...clearedTargetEnv(), ...targetEnv({ kind: 'cluster', nodes: c.seedNodes() }), KEY_PREFIX: 'x1', QUEUE_PREFIX: '{x1}', DATA_DIR: '/tmp/hs' };
  const r = spawnSync(process.execPath, ['bin/licensegate.mjs', 'admin', 'licenses', '--json'], { env, encoding: 'utf8', timeout: 30000 });
  console.log(r.status, r.stdout, r.stderr);
} finally { await scope.close(); }
