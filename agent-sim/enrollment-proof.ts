/**
 * The agent's enrollment proof (Hello.enrollment_proof, SPEC Z3): a random secret made once
 * per install and kept with the client id, so that only this install can enroll the id again
 * while the gateway has not seen it confirm its credential (a lost Welcome). 32 characters of
 * base64url (192 random bits), inside the protocol's 16-128 printable characters.
 */
import { randomBytes } from 'node:crypto';

export function newEnrollmentProof(): string {
  return randomBytes(24).toString('base64url');
}
