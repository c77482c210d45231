/**
 * SPEC H2 (login limits per source) with the gateway's proxy rule: the admin API takes a
 * request's client address from X-Forwarded-For only when the peer is one of TRUSTED_PROXIES,
 * and then the rightmost hop that is not a proxy; anyone else's header is ignored.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddressRule } from '../../src/http/admin-http-service.ts';

const req = (peer: string, xff?: string) => ({ socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage;

describe('admin API client address', () => {
  it('H2: X-Forwarded-For counts only from a trusted proxy, rightmost untrusted hop', () => {
    const rule = clientAddressRule(['10.0.0.0/8']);
    expect(rule(req('10.1.2.3', '198.51.100.7'))).toBe('198.51.100.7');
    expect(rule(req('10.1.2.3', '203.0.113.9, 198.51.100.7, 10.9.9.9'))).toBe('198.51.100.7');
    expect(rule(req('192.0.2.50', '198.51.100.7'))).toBe('192.0.2.50'); // not a proxy: header ignored
    expect(rule(req('10.1.2.3', 'garbage'))).toBe('10.1.2.3');
    expect(clientAddressRule([])(req('10.1.2.3', '198.51.100.7'))).toBe('10.1.2.3');
  });
});
