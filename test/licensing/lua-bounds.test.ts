/**
 * SPEC F6: no single Lua call runs 50 ms or more; big changes go in bounded batches. Each big
 * change of bench/lib/lua-bounds-cases.ts runs on a tenant of 20,000 Clients on a private
 * redis-server timed by its SLOWLOG: each changes 10,000 licenses, so with at most 500 changes a
 * call it must take at least 20 calls; they must stay under 50 ms, and the change must end right
 * (C9 order, S4, T4, invariants). A call may still be timed at 50 ms or more when it waited for a
 * CPU: on a shared, loaded machine even a pure-CPU 5 ms Lua loop sometimes takes 100 ms and more
 * (bench/lib/lua-noise-floor.ts), which is no work of ours; so up to 2% of the calls may be
 * (an unbatched change is one call of seconds, and batches too big make most calls slow). The
 * bench reports the strict maximum at 100,000 Clients next to that noise floor
 * (`npm run bench -- --only lua-bounds`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { LUA_BOUND_CASES, runLuaBoundCase } from '../../bench/lib/lua-bounds-cases.ts';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/store/embedded-redis.ts';
import { createRedis, waitReady } from '../../src/store/redis-connection.ts';

const CLIENTS = 20_000;

let server: EmbeddedRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startEmbeddedRedis({ persist: false });
  redis = createRedis(server.url, { connectionName: 'licensegate:test-lua-bounds' });
  await waitReady(redis);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

describe('bounded Lua work', () => {
  for (const which of LUA_BOUND_CASES) {
    it(`F6 C9 S4 T4: ${which} at ${CLIENTS} Clients takes 20+ script calls under 50 ms (2% may wait for a CPU) and ends right`, async () => {
      await redis.flushall();
      const r = await runLuaBoundCase(redis, which, CLIENTS);
      expect(r.checks).toEqual(Object.fromEntries(Object.keys(r.checks).map((k) => [k, true])));
      expect(r.violations).toEqual([]);
      expect(r.timing.calls).toBeGreaterThanOrEqual(CLIENTS / 1000);
      expect(r.timing.over50ms, `script calls: ${JSON.stringify(r.timing)}`).toBeLessThanOrEqual(Math.ceil(r.timing.calls * 0.02));
    });
  }
});
