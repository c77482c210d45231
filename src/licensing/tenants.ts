/**
 * Tenants. The built-in default tenant always exists (SPEC Words); its enrollment token is
 * ENROLLMENT_TOKEN when set, else the one already stored, else a new random one.
 */
import type { Redis } from 'ioredis';
import { hashSecret, newEnrollmentToken } from '../auth/secrets.ts';
import type { Keys } from '../store/keys.ts';

export const DEFAULT_TENANT_ID = 'default';

export interface EnsureTenantOptions {
  name?: string;
  /** Replace the enrollment token with this one. */
  enrollmentToken?: string | undefined;
}

/** Creates the tenant if missing; returns its enrollment token. Safe to race. */
export async function ensureTenant(redis: Redis, keys: Keys, tenantId: string, options: EnsureTenantOptions = {}): Promise<string> {
  const key = keys.tenant(tenantId);
  await redis.hsetnx(key, 'name', options.name ?? tenantId);
  await redis.hsetnx(key, 'createdAt', Date.now());
  if (options.enrollmentToken) {
    await redis.hset(key, 'enrollToken', options.enrollmentToken, 'enrollTokenHash', hashSecret(options.enrollmentToken));
  } else {
    await redis.hsetnx(key, 'enrollToken', newEnrollmentToken());
    const token = (await redis.hget(key, 'enrollToken'))!;
    await redis.hset(key, 'enrollTokenHash', hashSecret(token));
  }
  await redis.sadd(keys.tenants(), tenantId);
  return (await redis.hget(key, 'enrollToken'))!;
}
