/** Durations on the command line: a number with a unit, `500ms`, `30s`, `2m`, `1h`. */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Milliseconds for `text` (`500ms`, `1.5s`, `2m`, `1h`), rounded to a whole millisecond.
 * Throws a RangeError with a one-line explanation for anything else, including a bare number.
 */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) {
    const hint = /^\d+(\.\d+)?$/.test(text.trim()) ? ' (add a unit)' : '';
    throw new RangeError(`"${text}" is not a duration${hint}; use e.g. 500ms, 30s, 2m, 1h`);
  }
  return Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
}

/** A short human form: `850ms`, `30s`, `2m`, `1m30s`, `1h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}` || '0s';
}
