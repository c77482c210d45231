import { describe, it, expect } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, retryDelay } from '../../agent-sim/backoff.ts';

const opts = { baseMs: 500, capMs: 30_000 };
const ceiling = (n: number): number => Math.min(opts.capMs, opts.baseMs * 2 ** n);

describe('agent-sim backoff', () => {
  it('C13: backoff uses full jitter within [0, min(cap, base*2^n)]', () => {
    for (let n = 0; n < 64; n++) {
      // The extremes of random() map to the extremes of the window.
      expect(backoffDelay(n, opts, () => 0)).toBe(0);
      expect(backoffDelay(n, opts, () => 0.999999)).toBe(ceiling(n));
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(n, opts);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(ceiling(n));
      }
    }
  });

  it('C13: jitter is spread over the whole window, not bunched at its top', () => {
    const n = 3; // window [0, 4000]
    const samples = Array.from({ length: 20_000 }, () => backoffDelay(n, opts));
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    expect(mean).toBeGreaterThan(0.45 * ceiling(n));
    expect(mean).toBeLessThan(0.55 * ceiling(n));
    expect(samples.filter((d) => d < ceiling(n) / 4).length).toBeGreaterThan(samples.length / 5);
  });

  it('C13: backoff never exceeds the cap, even for huge attempt counts', () => {
    for (const n of [6, 7, 10, 100, 1_000, 1e9, Number.MAX_SAFE_INTEGER, Infinity]) {
      expect(backoffDelay(n, opts, () => 0.999999)).toBe(opts.capMs);
    }
    expect(backoffDelay(-3, opts, () => 0.999999)).toBe(opts.baseMs); // treated as attempt 0
    expect(backoffDelay(Number.NaN, opts, () => 0.999999)).toBe(opts.baseMs);
    expect(backoffDelay(0, opts, () => 1)).toBe(opts.baseMs); // a random() returning 1 stays in bounds
    expect(DEFAULT_BACKOFF).toEqual(opts);
  });

  it('C13: an OVERLOADED retry_after_ms hint is honoured: never earlier, still jittered', () => {
    const hint = 7_000;
    for (let n = 0; n < 20; n++) {
      expect(retryDelay(n, opts, hint, () => 0)).toBe(hint);
      expect(retryDelay(n, opts, hint, () => 0.999999)).toBe(Math.max(hint, ceiling(n)));
      for (let i = 0; i < 200; i++) {
        const d = retryDelay(n, opts, hint);
        expect(d).toBeGreaterThanOrEqual(hint);
        expect(d).toBeLessThanOrEqual(Math.max(hint, ceiling(n)));
      }
    }
    // A hint beyond the cap still wins.
    expect(retryDelay(3, opts, 60_000, () => 0.5)).toBe(60_000);
  });

  it('C13: without a hint retryDelay is plain backoff', () => {
    for (const r of [0, 0.25, 0.5, 0.999999]) {
      for (let n = 0; n < 10; n++) {
        expect(retryDelay(n, opts, 0, () => r)).toBe(backoffDelay(n, opts, () => r));
      }
    }
  });
});
