/**
 * Secrets: per-Client credentials and tenant enrollment tokens. Only SHA-256 hashes of
 * credentials are stored (SPEC C2); both are 256-bit random, so a fast hash is sufficient.
 */
import { createHash, randomBytes } from 'node:crypto';

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A new per-Client credential (43 characters, base64url). */
export function newClientCredential(): string {
  return randomBytes(32).toString('base64url');
}

/** A new tenant enrollment token. */
export function newEnrollmentToken(): string {
  return `lgt_${randomBytes(24).toString('base64url')}`;
}
