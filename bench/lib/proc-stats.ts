/**
 * Another process's memory and CPU, read from Linux /proc: RSS from /proc/<pid>/status, CPU
 * time (user + system) from /proc/<pid>/stat. A CPU window is two readings; its use is the CPU
 * time spent divided by the wall time, in percent of one core.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** Kernel clock ticks per second (USER_HZ, almost always 100). */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Resident set size in bytes, or null when the process is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) the process has used, or null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state(3) ppid ... utime is field 14, stime 15 (1-based) → index 11, 12 here.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / ticksPerSecond();
  } catch {
    return null;
  }
}

/** CPU seconds the whole machine has spent busy (all cores: everything but idle and iowait). */
export function systemBusySeconds(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
    return busy / ticksPerSecond();
  } catch {
    return null;
  }
}

/**
 * Measures CPU use of several processes over a window: construct, then stop() → % of one core
 * each, plus `machine` (all processes, all cores) and `others` (machine minus the ones named:
 * anything else running on the box, which makes the window noisy).
 */
export class CpuWindow {
  private readonly pids: Record<string, number | undefined>;
  private readonly start: Map<string, number | null>;
  private readonly startSystem = systemBusySeconds();
  private readonly t0 = performance.now();

  constructor(pids: Record<string, number | undefined>) {
    // The bench process itself (it enqueues jobs in job-throughput) is never "others".
    this.pids = { ...pids, bench: process.pid };
    this.start = new Map(Object.entries(this.pids).map(([name, pid]) => [name, pid === undefined ? null : cpuSeconds(pid)]));
  }

  /** Percent of one core per process over the window (null for a process that could not be read). */
  stop(): Record<string, number | null> {
    const wallS = (performance.now() - this.t0) / 1000;
    const out: Record<string, number | null> = {};
    let ours = 0;
    for (const [name, pid] of Object.entries(this.pids)) {
      const a = this.start.get(name);
      const b = pid === undefined ? null : cpuSeconds(pid);
      out[name] = a === null || a === undefined || b === null || wallS <= 0 ? null : round1(((b - a) / wallS) * 100);
      ours += out[name] ?? 0;
    }
    const sysEnd = systemBusySeconds();
    if (this.startSystem !== null && sysEnd !== null && wallS > 0) {
      out.machine = round1(((sysEnd - this.startSystem) / wallS) * 100);
      out.others = round1(Math.max(0, out.machine - ours));
    }
    out.wallSeconds = round1(wallS);
    return out;
  }
}

export const round1 = (x: number): number => Math.round(x * 10) / 10;
export const round2 = (x: number): number => Math.round(x * 100) / 100;
