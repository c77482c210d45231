/**
 * Pacing and measurement helpers of the load driver (bench/procs/driver.ts): the closed loop
 * that keeps `concurrency` handshakes in flight, the open-rate schedule of the job runs, and the
 * driver's own event-loop delay. Every wait is bounded by a deadline.
 */
import type { IntervalHistogram } from 'node:perf_hooks';

/** Connect attempts per client (agents and bare-ws clients alike). */
export const MAX_ATTEMPTS = 6;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function tally(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

/** Runs fn(0..count-1) with at most `concurrency` in flight; stops starting new ones after the deadline. */
export async function closedLoop(count: number, concurrency: number, deadline: number, fn: (i: number) => Promise<void>): Promise<{ started: number }> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      await fn(i);
    }
  });
  await Promise.all(lanes);
  return { started: next };
}

export function sourceIp(list: string[], i: number): string | undefined {
  return list.length ? list[i % list.length] : undefined;
}

/** The driver's own event-loop delay over a window (ms): its timers and sockets wait this long. */
export function loopSummary(h: IntervalHistogram): { mean: number; p50: number; p99: number; max: number } {
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return { mean: ms(h.mean), p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
}

/** Schedules `count` calls of fn at `rate` per second (not waiting for each), then waits for all. */
export async function atRate(count: number, rate: number, fn: (k: number) => Promise<void>): Promise<void> {
  const t0 = performance.now();
  const all: Promise<void>[] = [];
  for (let k = 0; k < count; k++) {
    const due = t0 + (k * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    all.push(fn(k));
  }
  await Promise.all(all);
}
