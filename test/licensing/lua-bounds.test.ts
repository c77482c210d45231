/**
 * SPEC F6: no single Lua call runs 50 ms or more; big changes go in bounded batches. Each big
 * change of bench/lib/lua-bounds-cases.ts runs on a tenant of 20,000 Clients on a private
 * redis-server whose SLOWLOG records every command: the change must take several script calls,
 * each under 50 ms, and end right (C9 order, S4, T4, invariants). The bench runs the same
 * cases at 100,000 Clients (`npm run bench -- --only lua-bounds`).
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
    it(`F6 C9 S4 T4: ${which} at ${CLIENTS} Clients takes several script calls, each under 50 ms, and ends right`, async () => {
      await redis.flushall();
      const r = await runLuaBoundCase(redis, which, CLIENTS);
      expect(r.checks).toEqual(Object.fromEntries(Object.keys(r.checks).map((k) => [k, true])));
      expect(r.violations).toEqual([]);
      expect(r.timing.calls).toBeGreaterThan(1);
      expect(r.timing.over50ms, `longest script call ${r.timing.maxMs} ms`).toBe(0);
    });
  }
});
