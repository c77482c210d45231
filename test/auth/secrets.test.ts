import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashSecret, newClientCredential } from '../../src/auth/secrets.ts';

describe('secrets on the Hello path', () => {
  it('Z2: hashSecret is the hex SHA-256 of the UTF-8 secret (the hashes already stored stay valid)', () => {
    for (const secret of ['lgt_abc', 'é€😀 credential', 'x'.repeat(512)]) {
      expect(hashSecret(secret)).toBe(createHash('sha256').update(secret, 'utf8').digest('hex'));
    }
  });

  it('Z2: credentials are 32 random bytes in base64url, never handed out twice across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1_000; i++) {
      const c = newClientCredential();
      expect(c).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(c, 'base64url').length).toBe(32);
      seen.add(c);
    }
    expect(seen.size).toBe(1_000);
  });
});
