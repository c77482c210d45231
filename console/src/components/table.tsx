/**
 * A data table with sortable headers (buttons with aria-sort). Sorting is the caller's (server-
 * side for big lists: pass `sort` and `onSort`); without `onSort` the rows are sorted here by the
 * column's `sortValue` (or its key's value).
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export type SortDir = 'asc' | 'desc';
export interface SortState {
  key: string;
  dir: SortDir;
}

export interface Column<T> {
  key: string;
  label: string;
  sortable?: boolean;
  align?: 'left' | 'right';
  render?(row: T): ComponentChildren;
  sortValue?(row: T): string | number;
}

export interface TableProps<T> {
  caption: string;
  /** Show the caption only to screen readers. */
  captionHidden?: boolean;
  columns: Column<T>[];
  rows: T[];
  rowKey(row: T): string;
  /** The sort shown (controlled with onSort; the initial one without). */
  sort?: SortState | null;
  /** Server-side sorting: the caller fetches rows in the new order. */
  onSort?(s: SortState): void;
  empty?: ComponentChildren;
  busy?: boolean;
}

function valueOf<T>(c: Column<T>, row: T): string | number {
  if (c.sortValue) return c.sortValue(row);
  const v = (row as Record<string, unknown>)[c.key];
  return typeof v === 'number' ? v : String(v ?? '');
}

export function sortRows<T>(rows: T[], columns: Column<T>[], sort: SortState | null | undefined): T[] {
  if (!sort) return rows;
  const c = columns.find((x) => x.key === sort.key);
  if (!c) return rows;
  const m = sort.dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = valueOf(c, a);
    const y = valueOf(c, b);
    return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true })) * m;
  });
}

export function Table<T>(p: TableProps<T>) {
  // Uncontrolled (no onSort): the table keeps its own sort and sorts the rows it was given.
  const [own, setOwn] = useState<SortState | null>(p.sort ?? null);
  const sort = p.onSort ? (p.sort ?? null) : own;
  const rows = p.onSort ? p.rows : sortRows(p.rows, p.columns, sort);
  const click = (c: Column<T>) => {
    const next: SortState = { key: c.key, dir: sort?.key === c.key && sort.dir === 'asc' ? 'desc' : 'asc' };
    if (p.onSort) p.onSort(next);
    else setOwn(next);
  };
  return (
    <div class="table-wrap">
      <table aria-busy={p.busy ? 'true' : 'false'}>
        <caption class={p.captionHidden ? 'sr-only' : undefined}>{p.caption}</caption>
        <thead>
          <tr>
            {p.columns.map((c) => {
              const sorted = sort?.key === c.key ? sort.dir : null;
              return (
                <th key={c.key} scope="col" class={c.align === 'right' ? 'num' : undefined} aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : undefined}>
                  {c.sortable ? (
                    <button type="button" class="sort" onClick={() => click(c)}>
                      {c.label}
                      <span aria-hidden="true" class="sort-mark">
                        {sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ' ↕'}
                      </span>
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={p.columns.length} class="empty">
                {p.empty ?? 'Nothing to show.'}
              </td>
            </tr>
          ) : (
            rows.map((r) => (
              <tr key={p.rowKey(r)}>
                {p.columns.map((c) => (
                  <td key={c.key} class={c.align === 'right' ? 'num' : undefined}>
                    {c.render ? c.render(r) : String((r as Record<string, unknown>)[c.key] ?? '')}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
