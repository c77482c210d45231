/** Short notices after an action ("Assigned pc-42"): `toast(text)` from anywhere; <ToastHost/> shows them. */
import { useEffect, useState } from 'preact/hooks';

export interface ToastItem {
  id: number;
  text: string;
  kind: 'ok' | 'error' | 'info';
}

let nextId = 1;
const listeners = new Set<(items: ToastItem[]) => void>();
let items: ToastItem[] = [];

function publish(): void {
  for (const l of listeners) l(items);
}

export function toast(text: string, kind: ToastItem['kind'] = 'ok', ms = 5_000): void {
  const item = { id: nextId++, text, kind };
  items = [...items, item].slice(-4);
  publish();
  setTimeout(() => dismissToast(item.id), ms);
}

export function dismissToast(id: number): void {
  items = items.filter((t) => t.id !== id);
  publish();
}

export function ToastHost() {
  const [shown, setShown] = useState<ToastItem[]>(items);
  useEffect(() => {
    listeners.add(setShown);
    return () => void listeners.delete(setShown);
  }, []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {shown.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`}>
          <span>{t.text}</span>
          <button type="button" class="link" aria-label="Close notice" onClick={() => dismissToast(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
