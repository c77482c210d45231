/**
 * A confirmation dialog: modal (`<dialog>.showModal()` makes the rest of the page inert), focus
 * kept inside (Tab wraps), Esc or Cancel closes it, focus returns to the control that opened it.
 * `children` explain what happens (and may hold extra fields, e.g. a `force` checkbox).
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export interface ConfirmProps {
  open: boolean;
  title: string;
  children?: ComponentChildren;
  confirmLabel?: string;
  /** A destructive action gets the danger style. */
  danger?: boolean;
  busy?: boolean;
  onConfirm(): void;
  onCancel(): void;
}

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function Confirm(p: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (p.open && !d.open) {
      opener.current = document.activeElement;
      d.showModal();
      const first = d.querySelector<HTMLElement>('[data-autofocus]') ?? d.querySelector<HTMLElement>(FOCUSABLE);
      first?.focus();
    } else if (!p.open && d.open) {
      d.close();
      (opener.current as HTMLElement | null)?.focus?.();
    }
  }, [p.open]);
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      if (!p.busy) p.onCancel();
      return;
    }
    if (e.key !== 'Tab') return;
    const all = [...(ref.current?.querySelectorAll<HTMLElement>(FOCUSABLE) ?? [])];
    if (all.length === 0) return;
    const first = all[0]!;
    const last = all[all.length - 1]!;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };
  return (
    <dialog
      ref={ref}
      class="confirm"
      aria-labelledby="confirm-title"
      onKeyDown={onKeyDown}
      onCancel={(e) => {
        e.preventDefault();
        if (!p.busy) p.onCancel();
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (!p.busy) p.onConfirm();
        }}
      >
        <h2 id="confirm-title">{p.title}</h2>
        <div class="confirm-body">{p.children}</div>
        <div class="actions">
          <button type="button" onClick={p.onCancel} disabled={p.busy} data-autofocus>
            Cancel
          </button>
          <button type="submit" class={p.danger ? 'danger' : 'primary'} disabled={p.busy}>
            {p.busy ? 'Working…' : (p.confirmLabel ?? 'Confirm')}
          </button>
        </div>
      </form>
    </dialog>
  );
}
