import { asApiError, type FieldError } from '../api.ts';

/** An API failure as `CODE: detail` (and field errors), announced to screen readers. */
export function ErrorBanner(props: { error: unknown; onDismiss?: () => void }) {
  if (props.error === null || props.error === undefined) return null;
  const e = asApiError(props.error);
  return (
    <div class="banner banner-error" role="alert">
      <p>
        <strong>{e.code}</strong>: {e.detail}
        {e.retryAfterSeconds !== undefined ? ` (retry in ${e.retryAfterSeconds} s)` : ''}
      </p>
      <FieldErrors errors={e.errors} />
      {props.onDismiss && (
        <button type="button" class="link" onClick={props.onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}

/** A problem answer's per-field errors (422 INVALID_REQUEST), as a list; nothing when there are none. */
export function FieldErrors({ errors }: { errors: readonly FieldError[] | undefined }) {
  if (!errors?.length) return null;
  return (
    <ul>
      {errors.map((f) => (
        <li key={f.path}>
          {f.path}: {f.message}
        </li>
      ))}
    </ul>
  );
}
