/**
 * A gateway node's periodic work (sweeps, last-seen flush, liveness, reconciliation): each task
 * on its own unref'd interval, its failures logged and never thrown, all stopped at once.
 */
import type { Logger } from 'pino';

export class PeriodicTasks {
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly log: Logger) {}

  every(ms: number, fn: () => Promise<void> | void): void {
    const t = setInterval(() => {
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => this.log.error({ err }, 'periodic task failed'));
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  /**
   * Like every(), for a task that judges silence (heartbeat and Hello timeouts): after an
   * event-loop stall the agents' frames are still unread in the sockets, so judging now would
   * close live connections. The round after a stall is skipped: read first, judge next (F1).
   */
  everyUnlessStalled(ms: number, fn: (now: number) => void): void {
    let last = Date.now();
    this.every(ms, () => {
      const now = Date.now();
      const stalled = now - last > 4 * ms;
      last = now;
      if (!stalled) fn(now);
    });
  }

  stopAll(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
}

/** Rejects after ms unless p settles first. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
