/**
 * What the live fuzz run watches besides the fuzzers' own tallies: the gateway's resident memory
 * (read from /proc/<pid>/status: VmRSS now, VmHWM the high-water mark since start), its
 * /healthz answering all along, and the fuzz tenant's client ids (a small pool, so a valid
 * Hello usually finds an enrolled id and its credential; an id the gateway stopped accepting —
 * uninstalled, or enrolled by a Welcome the fuzzer never saw — is replaced by a fresh one).
 */
import { readFileSync } from 'node:fs';
import type { Rng } from './fuzz-frames.ts';

/** The tenant the fuzzers enroll in; the good agents are in the default tenant. */
export const FUZZ_TENANT = 'fuzz';

/** NaN when the process is gone (its exit is reported by the scenario, not by a throw here). */
export function rssOf(pid: number): { rssKiB: number; hwmKiB: number } {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { rssKiB: NaN, hwmKiB: NaN };
  }
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
}

export interface HealthStats {
  polls: number;
  ok: number;
  failed: number;
  slowestMs: number;
  lastFailure: string | null;
}

/**
 * Polls `url` every `everyMs` (one request at a time) until stop(). A poll fails when it gets no
 * 200 within `timeoutMs`: the health server shares the gateway's event loop, so a loop busy with
 * the fuzz answers late but answers; a dead or wedged process does not.
 */
export function watchHealth(url: string, everyMs: number, timeoutMs = 5_000): { stop(): HealthStats } {
  const stats: HealthStats = { polls: 0, ok: 0, failed: 0, slowestMs: 0, lastFailure: null };
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = Date.now();
      stats.polls++;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        await res.text();
        if (res.status === 200) stats.ok++;
        else {
          stats.failed++;
          stats.lastFailure = `HTTP ${res.status}`;
        }
      } catch (err) {
        stats.failed++;
        stats.lastFailure = (err as Error).message;
      }
      stats.slowestMs = Math.max(stats.slowestMs, Date.now() - t0);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  void loop;
  return {
    stop() {
      running = false;
      return { ...stats };
    },
  };
}

export class FuzzClients {
  private readonly slots: { clientId: string; credential?: string }[] = [];
  /** Client ids made so far (each may have enrolled once). */
  created = 0;

  constructor(size: number) {
    for (let i = 0; i < size; i++) this.slots.push({ clientId: this.fresh() });
  }

  private fresh(): string {
    return `fuzz-${String(this.created++).padStart(5, '0')}`;
  }

  pick(rng: Rng): { clientId: string; credential?: string } {
    return { ...rng.pick(this.slots) };
  }

  enrolled(clientId: string, credential: string): void {
    const s = this.slots.find((x) => x.clientId === clientId);
    if (s) s.credential = credential;
  }

  retire(clientId: string): void {
    const s = this.slots.find((x) => x.clientId === clientId);
    if (!s) return;
    s.clientId = this.fresh();
    delete s.credential;
  }
}
