/**
 * Mutations of encoded frames, shared by the property tests (test/protocol/*property*) and the
 * live fuzz run (chaos/scenarios/fuzz.ts): bit flips, truncation, extension, insertion, and
 * rewriting a field's tag (number and wire type) at the top level or inside the frame's body —
 * the corruptions a broken or hostile agent produces. Tags are found with a small protobuf
 * walker so that tag rewrites hit real tags, not random bytes. Pure: no randomness of its own.
 */
/** Byte offsets and lengths of the tags of `bytes` (top level and one level inside length-delimited fields). */
export function tagPositions(bytes: Uint8Array, depth = 1, base = 0): { at: number; len: number }[] {
  const out: { at: number; len: number }[] = [];
  let i = 0;
  const varint = (): number | null => {
    let v = 0;
    let mul = 1;
    for (let k = 0; k < 10; k++) {
      if (i >= bytes.length) return null;
      const b = bytes[i++]!;
      v += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return v;
    }
    return null;
  };
  while (i < bytes.length) {
    const at = i;
    const tag = varint();
    if (tag === null) break;
    out.push({ at: base + at, len: i - at });
    const wire = tag % 8;
    if (wire === 0) {
      if (varint() === null) break;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const len = varint();
      if (len === null || i + len > bytes.length) break;
      if (depth > 0) out.push(...tagPositions(bytes.subarray(i, i + len), depth - 1, base + i));
      i += len;
    } else break;
  }
  return out;
}

function encodeVarint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'extend'; tail: Uint8Array }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'retag'; which: number; field: number; wire: number };

export function applyMutation(bytes: Uint8Array, m: Mutation): Uint8Array {
  const b = Array.from(bytes);
  switch (m.kind) {
    case 'flip':
      if (b.length === 0) return Uint8Array.from([1 << m.bit]);
      b[m.at % b.length]! ^= 1 << m.bit;
      return Uint8Array.from(b);
    case 'truncate':
      return bytes.subarray(0, b.length === 0 ? 0 : m.keep % b.length);
    case 'extend':
      return Uint8Array.from([...b, ...m.tail]);
    case 'insert': {
      const at = m.at % (b.length + 1);
      return Uint8Array.from([...b.slice(0, at), ...m.bytes, ...b.slice(at)]);
    }
    case 'retag': {
      const tags = tagPositions(bytes);
      if (tags.length === 0) return bytes;
      const t = tags[m.which % tags.length]!;
      return Uint8Array.from([...b.slice(0, t.at), ...encodeVarint(m.field * 8 + m.wire), ...b.slice(t.at + t.len)]);
    }
  }
}
