/**
 * Cursor pagination (docs/client-pages.md): the server gives `nextCursor`; going back pops a
 * stack of the cursors that led here. `usePager()` holds the stack; <Pager/> draws the buttons.
 */
import { useCallback, useState } from 'preact/hooks';

export interface PagerState {
  /** The cursor of the page shown (undefined: the first page). */
  cursor: string | undefined;
  /** 1-based page number. */
  page: number;
  next(nextCursor: string): void;
  previous(): void;
  /** Back to the first page (filters or sort changed). */
  reset(): void;
}

export function usePager(): PagerState {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined]);
  const next = useCallback((c: string) => setStack((s) => [...s, c]), []);
  const previous = useCallback(() => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)), []);
  const reset = useCallback(() => setStack([undefined]), []);
  return { cursor: stack[stack.length - 1], page: stack.length, next, previous, reset };
}

export function Pager(p: { pager: PagerState; nextCursor: string | null | undefined; total?: number; pageSize?: number; busy?: boolean; label?: string }) {
  const { pager } = p;
  const pages = p.total !== undefined && p.pageSize ? Math.max(1, Math.ceil(p.total / p.pageSize)) : undefined;
  return (
    <nav class="pager" aria-label={p.label ?? 'Pages'}>
      <button type="button" onClick={pager.previous} disabled={pager.page <= 1 || p.busy}>
        ← Previous
      </button>
      <span aria-live="polite">
        Page {pager.page}
        {pages !== undefined ? ` of ${pages}` : ''}
        {p.total !== undefined ? ` · ${p.total.toLocaleString('en')} in all` : ''}
      </span>
      <button type="button" onClick={() => p.nextCursor && pager.next(p.nextCursor)} disabled={!p.nextCursor || p.busy}>
        Next →
      </button>
    </nav>
  );
}
