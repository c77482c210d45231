import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scope } from '/work/wt-ha-suites/bench/lib/scope.ts';
import { RedisClusterTopology } from '/work/wt-ha-suites/chaos/lib/redis-cluster.ts';
import { spawnSync } from 'node:child_process';
const scope = new Scope();
try {
  const c = await RedisClusterTopology.start(scope, { dir: mkdtempSync(join(tmpdir(), 'hs-')) });
  const r = spawnSync(process.execPath, ['test/fixtures/plain-admin-service.mjs', JSON.stringify({ kind: 'cluster', nodes: c.seedNodes() }), '{x}', 'client.unassign', '{}', 'j1'], { encoding: 'utf8', timeout: 30000 });
  console.log(r.status, r.stdout, r.stderr);
} finally { await scope.close(); }
