/** Compact aligned text tables for people: a header row, two spaces between columns. */
import { safeText } from './safe-text.ts';

export type Cell = string | number | boolean | null | undefined;

function text(cell: Cell): string {
  if (cell === null || cell === undefined || cell === '') return '-';
  if (typeof cell === 'boolean') return cell ? 'yes' : 'no';
  // Cells carry what agents sent (hostnames, versions): never raw control characters (safe-text.ts).
  return safeText(String(cell));
}

/** Numbers are right-aligned, everything else left-aligned; empty cells show as `-`. */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = rows.map((row) => headers.map((_, i) => text(row[i])));
  const right = headers.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number'));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: readonly string[]) =>
    row
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h, i) => (right[i] ? h.padStart(widths[i]!) : h))), ...cells.map(line)].join('\n');
}

/** A time as ISO 8601 UTC: ms since the epoch or an ISO string; `-` when unknown. */
export function iso(time: number | string | null | undefined): string {
  if (time === null || time === undefined || time === 0 || time === '') return '-';
  const ms = typeof time === 'number' ? time : Date.parse(time);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(time);
}
