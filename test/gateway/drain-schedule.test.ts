/** SPEC X4: the drain's schedule (drain.ts) over a fake target, on fake timers. */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DRAIN_RETRY_JITTER_MS, drainRefusal, runDrain, type DrainTarget } from '../../src/gateway/drain.ts';

const log = pino({ level: 'silent' });

/** Connections 0..n-1; records each slice's time (ms since start) and members. */
function fakeTarget(n: number, fail = false) {
  const open = Array.from({ length: n }, (_, i) => i);
  const start = Date.now();
  const slices: { at: number; ids: number[]; hints: number[] }[] = [];
  const target: DrainTarget<number> = {
    open: () => [...open],
    async closeSlice(ids, refusal) {
      slices.push({ at: Date.now() - start, ids, hints: ids.map(() => refusal().retryAfterMs) });
      for (const id of ids) open.splice(open.indexOf(id), 1);
      if (fail) throw new Error('redis away');
    },
  };
  return { target, slices, leave: (id: number) => open.splice(open.indexOf(id), 1) };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('drain schedule', () => {
  it('X4: after the notice, ceil(open / slices left) per slice at even intervals over the window', async () => {
    const { target, slices } = fakeTarget(95);
    const done = runDrain(target, { noticeMs: 3000, windowMs: 1000 }, log);
    await vi.advanceTimersByTimeAsync(5000);
    const report = await done;
    expect(slices.map((s) => s.ids.length)).toEqual([19, 19, 19, 19, 19]);
    expect(slices.map((s) => s.at)).toEqual([3000, 3200, 3400, 3600, 3800]);
    expect(slices.flatMap((s) => s.ids)).toEqual(Array.from({ length: 95 }, (_, i) => i)); // oldest first
    expect(report).toMatchObject({ connections: 95, closed: 95, slices: 5, aborted: false });
  });

  it('X4: agents that leave by themselves shrink later slices; the last slice takes the rest', async () => {
    const { target, slices, leave } = fakeTarget(40);
    const done = runDrain(target, { noticeMs: 0, windowMs: 800 }, log);
    await vi.advanceTimersByTimeAsync(100);
    for (let id = 30; id < 40; id++) leave(id);
    await vi.advanceTimersByTimeAsync(1000);
    expect(slices.map((s) => s.ids.length)).toEqual([10, 7, 7, 6]);
    expect((await done).closed).toBe(30);
  });

  it('X4: a stalled event loop does not bunch the late slices into one burst: they keep at least half a slice apart', async () => {
    const { target, slices } = fakeTarget(100);
    const done = runDrain(target, { noticeMs: 0, windowMs: 2000 }, log);
    await vi.advanceTimersByTimeAsync(0);
    vi.setSystemTime(Date.now() + 1000); // the process was descheduled for a second: timers late
    await vi.advanceTimersByTimeAsync(5000);
    await done;
    const gaps = slices.slice(1).map((s, i) => s.at - slices[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100);
    expect(slices.reduce((n, s) => n + s.ids.length, 0)).toBe(100);
  });

  it('X4: nothing connected skips the notice and the window', async () => {
    const { target, slices } = fakeTarget(0);
    const started = Date.now();
    const report = await runDrain(target, { noticeMs: 3000, windowMs: 10_000 }, log);
    expect(Date.now() - started).toBe(0);
    expect(slices).toEqual([]);
    expect(report).toMatchObject({ connections: 0, closed: 0, slices: 0 });
  });

  it('X4: an abort (a second signal) ends the drain at once, leaving the rest to stop()', async () => {
    const { target, slices } = fakeTarget(100);
    const abort = new AbortController();
    const done = runDrain(target, { noticeMs: 200, windowMs: 10_000 }, log, abort.signal);
    await vi.advanceTimersByTimeAsync(900);
    abort.abort();
    const report = await done;
    expect(report.aborted).toBe(true);
    expect(slices).toHaveLength(4); // at 200, 400, 600, 800 ms of 50 slices
    expect(report.closed).toBe(slices.reduce((n, s) => n + s.ids.length, 0));
    expect(target.open()).toHaveLength(100 - report.closed);
  });

  it('X4: a slice whose offline records fail is logged, and the drain goes on', async () => {
    const { target, slices } = fakeTarget(10, true);
    const done = runDrain(target, { noticeMs: 0, windowMs: 400 }, log);
    await vi.advanceTimersByTimeAsync(1000);
    expect((await done).closed).toBe(10);
    expect(slices).toHaveLength(2);
  });

  it('X4: offline records that never complete (Redis unreachable) hold up neither the slices nor the stop for long', async () => {
    const open = Array.from({ length: 20 }, (_, i) => i);
    const at: number[] = [];
    const start = Date.now();
    const target: DrainTarget<number> = {
      open: () => [...open],
      closeSlice: (ids) => {
        at.push(Date.now() - start);
        for (const id of ids) open.splice(open.indexOf(id), 1);
        return new Promise<void>(() => {}); // never settles
      },
    };
    let finished = false;
    const done = runDrain(target, { noticeMs: 0, windowMs: 1000 }, log).then((r) => ((finished = true), r));
    await vi.advanceTimersByTimeAsync(1000);
    expect(at).toEqual([0, 200, 400, 600, 800]);
    expect(finished).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(finished).toBe(true);
    expect((await done).closed).toBe(20);
  });

  it('X4: drained agents get SHUTTING_DOWN (close 1001) with a retry hint jittered over 1..1000 ms', () => {
    expect(drainRefusal(() => 0)).toMatchObject({ code: 'SHUTTING_DOWN', closeCode: 1001, retryAfterMs: 1 });
    expect(drainRefusal(() => 0.999_999).retryAfterMs).toBe(DRAIN_RETRY_JITTER_MS);
    expect(drainRefusal(() => 0.5).retryAfterMs).toBe(501);
  });
});
