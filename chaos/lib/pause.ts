/**
 * Fault injector: a stall. SIGSTOP freezes a process (a Redis that hangs on a slow disk, a VM
 * paused by its host, a long GC) while its sockets stay open; SIGCONT lets it run on as if no
 * time had passed. Peers see silence, not errors — the case that issue 8 item 1 found.
 */
import type { Scope } from '../../bench/lib/scope.ts';

/** SIGSTOP `pid` for `ms`, then SIGCONT. The scope resumes it too, if the run is cut short. */
export async function pauseFor(scope: Scope, pid: number, ms: number): Promise<void> {
  const resume = () => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // already gone
    }
  };
  scope.defer(`SIGCONT ${pid}`, resume);
  process.kill(pid, 'SIGSTOP');
  try {
    await new Promise((r) => setTimeout(r, ms));
  } finally {
    resume();
  }
}
