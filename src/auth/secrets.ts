/**
 * Secrets: per-Client credentials and tenant enrollment tokens. Only SHA-256 hashes of
 * credentials are stored (SPEC C2); both are 256-bit random, so a fast hash is sufficient.
 *
 * Both helpers run on the Hello path (every enrollment hashes the token and a new credential
 * and draws that credential; every reconnect hashes its credential), so they avoid Node's
 * per-call overheads: `crypto.hash` is the one-shot digest (no Hash stream object, about a
 * third of createHash's cost), and credentials are cut from a pool of CSPRNG output filled 4 KB
 * at a time, since a synchronous `randomBytes(32)` costs tens of µs per call on this class of VM
 * (a crypto job per call) and cutting 32 bytes from the pool about one. The bytes are the same
 * CSPRNG's; each is handed out once, and the pool holds only bytes not yet handed out.
 */
import { hash, randomBytes, randomFillSync } from 'node:crypto';

export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

const CREDENTIAL_BYTES = 32;
const POOL_BYTES = 128 * CREDENTIAL_BYTES;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** A new per-Client credential (43 characters, base64url): 32 bytes from the CSPRNG. */
export function newClientCredential(): string {
  if (poolOffset + CREDENTIAL_BYTES > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
    poolOffset = 0;
  }
  const credential = pool.toString('base64url', poolOffset, poolOffset + CREDENTIAL_BYTES);
  pool.fill(0, poolOffset, poolOffset + CREDENTIAL_BYTES); // handed out: not kept in the pool
  poolOffset += CREDENTIAL_BYTES;
  return credential;
}

/** A new tenant enrollment token. */
export function newEnrollmentToken(): string {
  return `lgt_${randomBytes(24).toString('base64url')}`;
}

/** A new password for the embedded Redis (256 bits, base64url: safe inside a redis.conf line). */
export function newRedisPassword(): string {
  return randomBytes(32).toString('base64url');
}

/** A stored secret hash as the job contract carries it: SHA-256, lower-case hex. */
export const SECRET_HASH = /^[0-9a-f]{64}$/;
