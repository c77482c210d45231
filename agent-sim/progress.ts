/**
 * The live progress line on stderr, once a second: connected, licensed, waiting, commands,
 * errors and the connect rate. On a terminal it rewrites one line; otherwise (a pipe, a log
 * file) it prints one line per second.
 */
import { formatDuration } from './duration.ts';
import type { FleetProgress } from './fleet.ts';
import { total, type Tally } from './stats.ts';

const n = (x: number): string => x.toLocaleString('en-US');

function topCodes(errors: Tally, limit = 2): string {
  const top = Object.entries(errors)
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([code, count]) => `${code} ${n(count)}`);
  return top.length ? ` (${top.join(', ')}${Object.keys(errors).length > limit ? ', …' : ''})` : '';
}

/** One progress line (no newline) for the whole fleet. */
export function formatProgress(p: FleetProgress, ratePerSecond: number): string {
  const s = p.snapshot;
  const errors = total(p.counters.errors);
  return [
    `agent-sim ${formatDuration(p.elapsedMs).padStart(5)}`,
    `connected ${n(s.connected)}/${n(s.agents)}`,
    `licensed ${n(total(s.licensed))}`,
    `waiting ${n(s.unlicensed.NO_LICENSE_AVAILABLE ?? 0)}`,
    `commands ${n(total(p.counters.commands))}`,
    `errors ${n(errors)}${topCodes(p.counters.errors)}`,
    `rate ${n(Math.round(ratePerSecond))}/s`,
  ].join('  ');
}

/** Prints progress lines to `stream` (nothing when disabled) and computes the connect rate. */
export class ProgressPrinter {
  private lastWelcomes = 0;
  private lastAt = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly enabled: boolean,
  ) {}

  /** Prints the line for `p`; the rate is Welcomes per second since the previous call. */
  update(p: FleetProgress, now = Date.now()): void {
    const seconds = this.lastAt ? (now - this.lastAt) / 1000 : 1;
    const rate = seconds > 0 ? (p.counters.welcomes - this.lastWelcomes) / seconds : 0;
    this.lastWelcomes = p.counters.welcomes;
    this.lastAt = now;
    if (!this.enabled) return;
    const line = formatProgress(p, rate);
    if (this.stream.isTTY) {
      this.stream.write(`\r${line}\x1b[K`);
      this.drawn = true;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends a rewritten terminal line so later output starts on its own line. */
  finish(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }

  /** A status message on its own line. */
  note(message: string): void {
    if (!this.enabled) return;
    this.finish();
    this.stream.write(`agent-sim: ${message}\n`);
  }
}
