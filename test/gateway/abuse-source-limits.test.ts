/** SPEC Z4: the per-address counters themselves — keys, caps, backoff doubling, bounded memory. */
import { describe, expect, it } from 'vitest';
import { countsAsAuthFailure, SourceLimits, sourceKey } from '../../src/gateway/source-limits.ts';

describe('Z4: per-source counters', () => {
  it('Z4: an IPv4-mapped address counts as its IPv4 address; IPv6 counts per /64', () => {
    expect(sourceKey('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(sourceKey('10.1.2.3')).toBe('10.1.2.3');
    expect(sourceKey('2001:db8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(sourceKey('2001:db8:0:1:ffff:1:2:3')).toBe('2001:db8:0:1::/64');
    expect(sourceKey('2001:0db8::1')).toBe('2001:db8:0:0::/64');
  });

  it('Z4: the per-source and process caps refuse beyond their bound and free on leave', () => {
    const l = new SourceLimits({ maxUnauthenticated: 3, maxUnauthenticatedPerSource: 2 });
    expect(l.enter('a')).toBeUndefined();
    expect(l.enter('a')).toBeUndefined();
    expect(l.enter('a')).toBe('source');
    expect(l.enter('b')).toBeUndefined();
    expect(l.enter('c')).toBe('process');
    l.leave('a');
    expect(l.enter('c')).toBeUndefined();
    expect(l.unauthenticatedFrom('a')).toBe(1);
    l.leave('a');
    expect(l.unauthenticatedFrom('a')).toBe(0);
  });

  it('Z4: the backoff starts after N failures in the window, doubles, caps, and a quiet spell forgives', () => {
    const l = new SourceLimits({ authFailuresPerSource: 3, authFailureWindowMs: 1_000, authBackoffBaseMs: 100, authBackoffMaxMs: 350 });
    let t = 0;
    expect(l.recordFailure('x', t++)).toBe(0);
    expect(l.recordFailure('x', t++)).toBe(0);
    expect(l.recordFailure('x', t)).toBe(100);
    expect(l.backoffMs('x', t + 50)).toBe(50);
    expect(l.backoffMs('y', t + 50)).toBe(0);
    for (let i = 0; i < 3; i++) l.recordFailure('x', t + 200);
    expect(l.backoffMs('x', t + 200)).toBe(200);
    for (let i = 0; i < 3; i++) l.recordFailure('x', t + 500);
    expect(l.backoffMs('x', t + 500)).toBe(350); // 400, capped
    // Failures spread wider than the window never add up.
    const spread = new SourceLimits({ authFailuresPerSource: 3, authFailureWindowMs: 1_000 });
    for (let i = 0; i < 10; i++) expect(spread.recordFailure('z', i * 1_001)).toBe(0);
    // A quiet spell as long as the longest backoff resets the doubling.
    for (let i = 0; i < 3; i++) l.recordFailure('x', t + 10_000);
    expect(l.backoffMs('x', t + 10_000)).toBe(100);
  });

  it('Z4: failure records are bounded (oldest evicted) and idle ones pruned', () => {
    const l = new SourceLimits({ maxTrackedSources: 100, authFailureWindowMs: 1_000, authBackoffMaxMs: 1_000 });
    for (let i = 0; i < 1_000; i++) l.recordFailure(`10.0.${i >> 8}.${i & 255}`, 0);
    expect(l.trackedSources).toBe(100);
    l.prune(10_000);
    expect(l.trackedSources).toBe(0);
  });

  it('Z4: only refusals that mean a wrong secret or identity count as failed authentications', () => {
    expect(['AUTH_FAILED', 'UNKNOWN_TENANT', 'CLIENT_IN_OTHER_TENANT'].every(countsAsAuthFailure)).toBe(true);
    expect(['OVERLOADED', 'ENROLLMENT_PENDING', 'CLIENT_UNINSTALLED', 'REDIS_UNAVAILABLE', 'HELLO_TIMEOUT'].some(countsAsAuthFailure)).toBe(false);
  });

  it('Z4: X-Forwarded-For is believed only from a trusted proxy, and only its rightmost untrusted entry', () => {
    const l = new SourceLimits({ trustedProxies: ['10.0.0.5', '10.0.1.0/24'] });
    expect(l.clientAddress('10.0.0.5', '203.0.113.7')).toBe('203.0.113.7');
    expect(l.clientAddress('::ffff:10.0.0.5', '1.2.3.4, 203.0.113.7')).toBe('203.0.113.7');
    expect(l.clientAddress('10.0.0.5', '203.0.113.7, 10.0.1.9')).toBe('203.0.113.7');
    expect(l.clientAddress('10.0.0.6', '203.0.113.7')).toBe('10.0.0.6');
    expect(l.clientAddress('10.0.0.5', 'not-an-ip')).toBe('10.0.0.5');
    expect(l.clientAddress('10.0.0.5', undefined)).toBe('10.0.0.5');
    expect(() => new SourceLimits({ trustedProxies: ['bogus'] })).toThrow(RangeError);
  });
});
