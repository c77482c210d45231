/**
 * A small seeded pseudo-random generator (mulberry32) so that a `--seed` reproduces a fleet:
 * the same OS per agent, the same non-persistent and uninstalling agents. Not for secrets.
 */

/** Uniform numbers in [0, 1), like Math.random. */
export type Random = () => number;

/** mulberry32: 32-bit state, full period 2^32, good enough statistics for load shaping. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator for one purpose (`stream`) derived from a seed, independent of the others. */
export function deriveRandom(seed: number, stream: number): Random {
  return seededRandom(Math.imul((seed ^ 0x9e3779b9) >>> 0, 2654435761) ^ Math.imul(stream + 1, 0x85ebca6b));
}

/** Shuffles `items` in place (Fisher–Yates) and returns it. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}

/** `count` distinct indices out of 0..n-1, chosen uniformly (partial Fisher–Yates). */
export function sampleIndices(n: number, count: number, random: Random): number[] {
  const k = Math.max(0, Math.min(n, Math.floor(count)));
  const pool = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    const tmp = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = tmp;
  }
  return pool.slice(0, k);
}

/** How many of `n` agents a percentage selects (rounded to the nearest whole agent). */
export function percentOf(n: number, percent: number): number {
  return Math.min(n, Math.round((n * percent) / 100));
}
