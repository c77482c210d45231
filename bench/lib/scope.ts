/**
 * A scenario's resources: every process it starts and every connection it opens is registered
 * here and torn down in reverse order when the scenario ends — normally, on failure, or on
 * timeout. Child processes are also killed if the bench itself exits (SIGINT, uncaught error):
 * a bench run never leaves processes behind.
 */
import type { ChildProcess } from 'node:child_process';

type Cleanup = () => Promise<unknown> | unknown;

/** Every child process of the bench that is still running (killed on exit). */
const live = new Set<ChildProcess>();
/** Processes known only by pid (the embedded redis-server), killed on exit too. */
const livePids = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    killAllChildren();
  });
}

function killHard(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    child.kill('SIGKILL');
  } catch {
    // already gone
  }
}

/** True once the process has exited. */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves when the child has exited (at once if it already has). */
export function exitOf(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(child: ChildProcess, graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (hasExited(child)) return;
  const exited = exitOf(child);
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
  const timer = setTimeout(() => killHard(child), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Tracks a child so that the bench kills it when it exits, whatever happens. */
export function trackChild(child: ChildProcess): void {
  installExitHook();
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** Tracks a process the bench did not spawn itself (by pid) until `untrackPid`. */
export function trackPid(pid: number): void {
  installExitHook();
  livePids.add(pid);
}

export function untrackPid(pid: number): void {
  livePids.delete(pid);
}

/** Kills every tracked process at once (exit and signal handlers). */
export function killAllChildren(): void {
  for (const child of live) killHard(child);
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  livePids.clear();
}

export class Scope {
  private readonly cleanups: { label: string; fn: Cleanup }[] = [];
  private closed = false;
  /** Errors raised by cleanups (reported in the scenario's details). */
  readonly cleanupErrors: string[] = [];

  get isClosed(): boolean {
    return this.closed;
  }

  /** Registers a cleanup; when the scope is already closed it runs at once. */
  defer(label: string, fn: Cleanup): void {
    if (this.closed) {
      void Promise.resolve()
        .then(fn)
        .catch(() => {});
      return;
    }
    this.cleanups.push({ label, fn });
  }

  /** Registers a child process: stopped with SIGTERM (then SIGKILL) at close. */
  child(label: string, child: ChildProcess, graceMs = 10_000): ChildProcess {
    trackChild(child);
    this.defer(label, () => stopChild(child, graceMs));
    return child;
  }

  /** Throws when the scope was closed (a timed-out scenario must not start anything new). */
  check(): void {
    if (this.closed) throw new Error('scenario scope already closed (timed out)');
  }

  /** Runs every cleanup in reverse order, each bounded by `stepTimeoutMs`. */
  async close(stepTimeoutMs = 20_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { label, fn } of this.cleanups.reverse()) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(fn),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${stepTimeoutMs} ms`)), stepTimeoutMs);
          }),
        ]);
      } catch (err) {
        this.cleanupErrors.push(`${label}: ${(err as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    }
    this.cleanups.length = 0;
  }
}
