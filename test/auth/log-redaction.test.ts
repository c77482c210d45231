/**
 * The logger's redaction is the backstop behind "no code logs a secret" (SPEC Z2): a secret
 * passed by mistake under a known field name, at any level, prints as "[redacted]" — including
 * the AUTH password an ioredis ReplyError carries in its failed command.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger('trace', 'json', { write: (l: string) => void lines.push(l) }) };
}

describe('log redaction', () => {
  it('Z2: tokens, credentials, proofs, passwords and Redis URLs are redacted at the top and nested, at trace level too', () => {
    const { lines, logger } = capture();
    const SECRET = 'lgt_super-secret-value-0001';
    logger.trace({ enrollmentToken: SECRET, hello: { clientCredential: SECRET, enrollmentProof: SECRET } }, 'hello');
    logger.info({ redis: { url: `redis://:${SECRET}@127.0.0.1:6379`, password: SECRET }, redisUrl: `redis://:${SECRET}@h:1` }, 'redis');
    logger.error({ tenant: { enrollToken: SECRET, secret: SECRET }, token: SECRET, credential: SECRET, privateKey: SECRET }, 'oops');
    expect(lines).toHaveLength(3);
    for (const l of lines) {
      expect(l).not.toContain(SECRET);
      expect(l).toContain('[redacted]');
    }
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 10, enrollmentToken: '[redacted]', hello: { clientCredential: '[redacted]', enrollmentProof: '[redacted]' } });
  });

  it('Z2: the password in a failed AUTH command of an ioredis error is redacted; other fields stay readable', () => {
    const { lines, logger } = capture();
    const err = Object.assign(new Error('WRONGPASS invalid username-password pair'), { command: { name: 'auth', args: ['p4ssw0rd-of-redis'] } });
    logger.error({ err, tenant: 'acme', clientId: 'c-1' }, 'redis connection error');
    expect(lines[0]).not.toContain('p4ssw0rd-of-redis');
    expect(JSON.parse(lines[0]!)).toMatchObject({ tenant: 'acme', clientId: 'c-1', err: { message: 'WRONGPASS invalid username-password pair', command: { name: 'auth', args: '[redacted]' } } });
  });
});
