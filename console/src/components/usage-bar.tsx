/** The usage marks of SPEC S3's warnings: 85, 90 and 99 %. */
export const USAGE_MARKS = [85, 90, 99] as const;

/** `ok` below 85 %, then `warn85`, `warn90`, `warn99` (and `full` at 100 %). */
export function usageLevel(percent: number): 'ok' | 'warn85' | 'warn90' | 'warn99' | 'full' {
  if (percent >= 100) return 'full';
  if (percent >= 99) return 'warn99';
  if (percent >= 90) return 'warn90';
  if (percent >= 85) return 'warn85';
  return 'ok';
}

/** A bar of used / total with the 85/90/99 % marks; the numbers are written out too (not colour alone). */
export function UsageBar(props: { used: number; total: number; label: string }) {
  const { used, total } = props;
  const percent = total > 0 ? Math.min(100, (used / total) * 100) : used > 0 ? 100 : 0;
  const level = usageLevel(percent);
  const shown = total > 0 ? `${used} of ${total} (${Math.floor(percent)} %)` : `${used} of 0`;
  return (
    <div class={`usage usage-${level}`}>
      <div
        class="usage-track"
        role="meter"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={Math.min(used, total)}
        aria-valuetext={shown}
      >
        <div class="usage-fill" style={{ width: `${percent}%` }} />
        {USAGE_MARKS.map((m) => (
          <span key={m} class="usage-mark" style={{ left: `${m}%` }} title={`${m} %`} aria-hidden="true" />
        ))}
      </div>
      <span class="usage-text">
        {shown}
        {level !== 'ok' && <span class="usage-flag"> {level === 'full' ? 'full' : `over ${level.slice(4)} %`}</span>}
      </span>
    </div>
  );
}
