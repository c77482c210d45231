/** The Hello queue on its own (src/gateway/hello-queue.ts): order, bounds, removal, expiry. */
import { describe, expect, it } from 'vitest';
import { HelloQueue } from '../../src/gateway/hello-queue.ts';

const keys = (q: HelloQueue<string, number>, canEnroll: boolean) => {
  const out: string[] = [];
  for (let next = q.takeNext(canEnroll); next; next = q.takeNext(canEnroll)) out.push(next.key);
  return out;
};

describe('hello queue', () => {
  it('C13: Hellos start in arrival order across both lanes', () => {
    const q = new HelloQueue<string, number>(10, 1000);
    q.push('e1', 1, true, 1);
    q.push('r1', 2, false, 2);
    q.push('e2', 3, true, 3);
    q.push('r2', 4, false, 4);
    expect(q.size).toBe(4);
    expect(q.takeNext(true)).toEqual({ key: 'e1', value: 1, enrolling: true, queuedAt: 1 });
    expect(keys(q, true)).toEqual(['r1', 'e2', 'r2']);
    expect(q.size).toBe(0);
    expect(q.takeNext(true)).toBeUndefined();
  });

  it('C13: an enrollment waiting for an enrollment slot does not hold back the reconnects behind it', () => {
    const q = new HelloQueue<string, number>(10, 1000);
    q.push('e1', 0, true, 1);
    q.push('e2', 0, true, 2);
    q.push('r1', 0, false, 3);
    q.push('r2', 0, false, 4);
    expect(keys(q, false)).toEqual(['r1', 'r2']); // enrollment slots full: reconnects pass
    expect(q.size).toBe(2);
    q.push('r3', 0, false, 5);
    expect(keys(q, true)).toEqual(['e1', 'e2', 'r3']); // a slot again: the oldest first
  });

  it('C13: the queue is bounded: beyond maxSize push refuses, and a key is queued once', () => {
    const q = new HelloQueue<string, number>(2, 1000);
    expect(q.push('a', 0, true, 1)).toBe(true);
    expect(q.push('a', 0, false, 1)).toBe(false);
    expect(q.push('b', 0, false, 1)).toBe(true);
    expect(q.push('c', 0, false, 1)).toBe(false);
    expect(q.peak).toBe(2);
    expect(q.queuedTotal).toBe(2);
    const none = new HelloQueue<string, number>(0, 1000); // HELLO_QUEUE_MAX=0: refuse at once
    expect(none.push('a', 0, false, 1)).toBe(false);
  });

  it('C13: a Hello whose socket closes leaves the queue from anywhere in it', () => {
    const q = new HelloQueue<string, number>(10, 1000);
    for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) q.push(k, i, false, i);
    q.push('e', 9, true, 9);
    expect(q.remove('b')).toBe(true); // middle
    expect(q.remove('a')).toBe(true); // head
    expect(q.remove('d')).toBe(true); // tail
    expect(q.remove('d')).toBe(false);
    expect(q.has('c')).toBe(true);
    expect(q.size).toBe(2);
    expect(keys(q, true)).toEqual(['c', 'e']);
    q.push('f', 0, false, 10); // the lane still links after removals
    expect(keys(q, true)).toEqual(['f']);
  });

  it('C13: Hellos queued waitMs ago or longer expire, oldest first, the rest stay', () => {
    const q = new HelloQueue<string, number>(10, 500);
    q.push('e1', 0, true, 100);
    q.push('r1', 0, false, 200);
    q.push('e2', 0, true, 700);
    q.push('r2', 0, false, 800);
    expect(q.expire(599)).toEqual([]);
    expect(q.expire(700).map((x) => x.key)).toEqual(['e1', 'r1']);
    expect(q.expiredTotal).toBe(2);
    expect(keys(q, true)).toEqual(['e2', 'r2']);
    q.push('x', 0, false, 1000);
    expect(q.clear().map((x) => x.key)).toEqual(['x']);
    expect(q.size).toBe(0);
  });

  it('C13: 100,000 pushes, removals and takes stay linear (O(1) each)', () => {
    const n = 100_000;
    const q = new HelloQueue<number, number>(n, 1000);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) q.push(i, i, i % 3 === 0, i);
    for (let i = 1; i < n; i += 2) q.remove(i);
    let taken = 0;
    while (q.takeNext(taken % 2 === 0) ?? q.takeNext(true)) taken++;
    expect(taken).toBe(n / 2);
    expect(q.size).toBe(0);
    // Quadratic work would take minutes; linear takes milliseconds even on a loaded box.
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});
