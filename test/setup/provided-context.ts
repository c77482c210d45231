/**
 * What the vitest global setups hand to tests (`inject('redisUrl')`, `inject('redisTarget')`),
 * declared once for all of them. `redisTarget` is plain JSON (it crosses into the test
 * workers) in the shape of src/store/redis-target.ts' RedisTarget: the Redis a suite runs
 * against — one server, a Sentinel setup or a Cluster — with its password/TLS when it has them.
 */
import type {} from 'vitest';
import type { RedisTarget } from '../../src/store/redis-target.ts';

/** JSON-able: RedisTarget holds only strings, numbers and booleans (a CA is passed as a file path). */
export type ProvidedRedisTarget = RedisTarget;

declare module 'vitest' {
  export interface ProvidedContext {
    /** The single redis-server's URL (the unit-and-integration project only). */
    redisUrl: string;
    redisTarget: ProvidedRedisTarget;
  }
}
