/**
 * How `licensegate serve` answers signals (SPEC X4, docs/operations.md):
 * - SIGTERM (a supervisor, a rolling restart): drain — `/readyz` fails at once, the agents are
 *   handed to the other gateways over DRAIN_SECONDS after DRAIN_NOTICE_MS — then stop.
 * - SIGINT (Ctrl-C): stop at once (every agent told SHUTTING_DOWN, recorded offline).
 * - SIGHUP: not a stop — it reloads the TLS certificate (reload-signal.ts, SPEC Z1).
 * - A second SIGTERM/SIGINT during a drain: stop at once. A signal during the stop itself ends
 *   the process the default way (as it always did).
 * Every phase is bounded by a forced exit (code 1): a Redis that went away first must not keep
 * the process alive — the drain phase by its own length plus STOP_LIMIT_MS.
 */
import type { Logger } from 'pino';
import type { RunningService } from '../serve.ts';

/** Longest a stop (after any drain) may take before the process exits anyway. */
export const STOP_LIMIT_MS = 15_000;

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Installs the signal handlers synchronously (before the caller prints its ready line: a
 * supervisor may signal the moment it reads it) and resolves once the service has stopped.
 * drainBudgetMs: DRAIN_NOTICE_MS + DRAIN_SECONDS in ms; undefined when DRAIN_SECONDS is 0 (no drain).
 */
export function stopOnSignals(service: RunningService, drainBudgetMs: number | undefined, logger: Logger): Promise<void> {
  let forced: NodeJS.Timeout | undefined;
  const forceExitAfter = (ms: number) => {
    clearTimeout(forced);
    forced = setTimeout(() => {
      logger.error({ ms }, 'shutdown did not finish in time; exiting');
      logger.flush?.();
      process.exit(1);
    }, ms);
    forced.unref();
  };
  const first = new Promise<NodeJS.Signals>((resolve) => {
    const onFirst = (signal: NodeJS.Signals) => {
      for (const s of SIGNALS) process.off(s, onFirst);
      resolve(signal);
    };
    for (const s of SIGNALS) process.on(s, onFirst);
  });
  return first.then(async (signal) => {
    const drain = signal === 'SIGTERM' && drainBudgetMs !== undefined;
    logger.info({ signal, drain }, 'shutting down');
    if (drain) {
      const abort = new AbortController();
      const onSecond = (again: NodeJS.Signals) => {
        for (const s of SIGNALS) process.off(s, onSecond);
        logger.info({ signal: again }, 'second signal: stopping without finishing the drain');
        abort.abort();
      };
      for (const s of SIGNALS) process.on(s, onSecond);
      forceExitAfter(drainBudgetMs + STOP_LIMIT_MS);
      await service.drain(abort.signal).catch((err: unknown) => logger.error({ err }, 'drain failed; stopping'));
      for (const s of SIGNALS) process.off(s, onSecond); // during the stop, as before: the default action
    }
    forceExitAfter(STOP_LIMIT_MS);
    await service.stop();
    clearTimeout(forced);
  });
}
