/** Redis stream entry ids (`<ms>-<seq>`): validation and order, for resuming event streams (SPEC H3). */

export const STREAM_ID = /^\d{1,20}(-\d{1,20})?$/;

/** `<ms>` alone means `<ms>-0`. */
function parts(id: string): [bigint, bigint] {
  const [ms, seq] = id.split('-');
  return [BigInt(ms!), BigInt(seq ?? '0')];
}

/** <0, 0, >0 as a is before, equal to, after b. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = parts(a);
  const [bm, bs] = parts(b);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

/** The canonical `<ms>-<seq>` form. */
export function normalizeStreamId(id: string): string {
  const [ms, seq] = parts(id);
  return `${ms}-${seq}`;
}
