/**
 * SPEC Z3: Hello.enrollment_proof on the wire — field 10, optional (older agents send none),
 * 16-128 printable ASCII characters when set — and the wire codes of the identity refusals.
 */
import { describe, expect, it } from 'vitest';
import { newEnrollmentProof } from '../../agent-sim/enrollment-proof.ts';
import { ERRORS } from '../../src/errors.ts';
import { decodeClientFrame } from '../../src/protocol/decode-client-frame.ts';
import { ClientFrame } from '../../src/protocol/wire.ts';

const hello = (extra: Record<string, unknown>) =>
  ClientFrame.encode({ hello: { tenantId: 'default', clientId: 'c-1', enrollmentToken: 'token-token-token-1', os: { family: 1 }, ...extra } }).finish();

function decodedProof(bytes: Uint8Array): string {
  const m = decodeClientFrame(bytes);
  if (m.kind !== 'hello') throw new Error('not a Hello');
  return m.hello.enrollmentProof;
}

describe('Z3 Hello.enrollment_proof', () => {
  it('Z3: a Hello without enrollment_proof (an older agent) decodes with none', () => {
    expect(decodedProof(hello({}))).toBe('');
  });

  it('Z3: a proof of 16-128 printable characters is taken; the agent-sim makes such proofs', () => {
    const proof = newEnrollmentProof();
    expect(proof).toMatch(/^[\x21-\x7e]{16,128}$/);
    expect(newEnrollmentProof()).not.toBe(proof);
    expect(decodedProof(hello({ enrollmentProof: proof }))).toBe(proof);
    expect(decodedProof(hello({ enrollmentProof: 'x'.repeat(16) }))).toBe('x'.repeat(16));
    expect(decodedProof(hello({ enrollmentProof: '~'.repeat(128) }))).toBe('~'.repeat(128));
  });

  it('Z3: a proof too short, too long or with spaces/control characters is INVALID_HELLO', () => {
    for (const bad of ['x'.repeat(15), 'x'.repeat(129), 'sixteen chars ok', `${'x'.repeat(16)}\n`, `${'x'.repeat(16)}é`]) {
      expect(() => decodeClientFrame(hello({ enrollmentProof: bad }))).toThrow(expect.objectContaining({ code: 'INVALID_HELLO' }));
    }
  });

  it('Z3: the identity refusals have stable codes: the rate limit is retryable (1013), the cap and a missing proof are not', () => {
    expect(ERRORS.ENROLL_RATE_LIMITED.closeCode).toBe(1013);
    expect(ERRORS.TENANT_CLIENT_LIMIT.closeCode).toBe(4403);
    expect(ERRORS.ENROLLMENT_PROOF_REQUIRED.closeCode).toBe(4401);
  });
});
