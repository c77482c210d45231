/**
 * Fault injector: a crash. SIGKILL gives the process no chance to clean up — no close frames,
 * no "offline" writes, no AOF flush, no BullMQ lock release — which is what the product must
 * survive (SPEC R1, C4, F2).
 */
import type { ChildProcess } from 'node:child_process';
import { exitOf } from '../../bench/lib/scope.ts';

/** SIGKILL, resolved once the process is gone (a stopped process dies of SIGKILL too). */
export async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = exitOf(child);
  child.kill('SIGKILL');
  await exited;
}
