/**
 * What the vitest global setups hand to tests (`inject('redisUrl')`, `inject('redisTarget')`),
 * declared once for all of them. `redisTarget` is plain JSON (it crosses into the test
 * workers) in the shape of src/store/redis-target.ts' RedisTarget: the Redis a suite runs
 * against — one server, a Sentinel setup or a Cluster — with its password/TLS when it has them.
 */
import type {} from 'vitest';

export interface HostPort {
  host: string;
  port: number;
}

/** TLS for tests: the CA that signed the servers' test certificate, as PEM text. */
export interface ProvidedTls {
  ca: string;
}

export type ProvidedRedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string; password?: string; tls?: ProvidedTls }
  | { kind: 'cluster'; nodes: HostPort[]; password?: string; tls?: ProvidedTls };

declare module 'vitest' {
  export interface ProvidedContext {
    /** The single redis-server's URL (the unit-and-integration project only). */
    redisUrl: string;
    redisTarget: ProvidedRedisTarget;
  }
}
