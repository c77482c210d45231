/**
 * Agent-supplied text printed to an admin's terminal (SPEC Z5, R2): control characters, C1
 * controls and bidi overrides never reach the terminal raw; they show as visible escapes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTable } from '../../src/cli/admin-table.ts';
import { hasUnsafeText, safeLines, safeText } from '../../src/cli/safe-text.ts';

/** C0 and C1 controls, DEL, bidi controls, line/paragraph separators, BOM. */
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;
const FORBIDDEN_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;

/** Strings rich in what terminals obey: escapes, OSC titles, CR, bidi overrides, any code point. */
const hostile = fc.array(
  fc.oneof(
    fc.string({ unit: 'grapheme' }),
    fc.string({ unit: 'binary' }),
    fc.constantFrom('\x1b[2J', '\x1b]0;title\x07', '\x1b]8;;http://evil\x1b\\', '\r', '\n', '\t', '\u009b31m', '\u202e', '\u2066', '\u0000', '\x7f', '\ufeff'),
  ),
  { maxLength: 8 },
).map((parts) => parts.join(''));

describe('safe text', () => {
  it('Z5 R2: escape sequences, OSC titles and bidi overrides show as visible escapes', () => {
    expect(safeText('host\x1b[2J')).toBe('host\\x1b[2J');
    expect(safeText('\x1b]0;title\x07')).toBe('\\x1b]0;title\\x07');
    expect(safeText('evil\u202egpj.exe')).toBe('evil\\u202egpj.exe');
    expect(safeText('a\r\nb\t\u009b')).toBe('a\\x0d\\x0ab\\x09\\x9b');
    expect(safeText('plain-host_01.example.com Ünïcödé 日本')).toBe('plain-host_01.example.com Ünïcödé 日本');
    expect(hasUnsafeText('ok')).toBe(false);
    expect(hasUnsafeText('a\x1bb')).toBe(true);
  });

  it('Z5 R2: property — safeText output never holds a C0/C1 control, bidi control or separator, and keeps every safe character', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const out = safeText(s);
        expect(FORBIDDEN.test(out)).toBe(false);
        // Nothing else is changed: removing the escapes' effect gives back the safe characters in order.
        expect(out.replace(/\\x[0-9a-f]{2}|\\u[0-9a-f]{4}/g, '')).toBe(s.replace(new RegExp(FORBIDDEN.source, 'g'), '').replace(/\\x[0-9a-f]{2}|\\u[0-9a-f]{4}/g, ''));
      }),
      { numRuns: 2000 },
    );
  });

  it('Z5 R2: property — a table of hostile cells prints only its own line breaks', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(hostile, hostile, fc.integer()), { maxLength: 6 }), (rows) => {
        const table = formatTable(['CLIENT ID', 'HOSTNAME', 'N'], rows);
        expect(FORBIDDEN_BUT_NEWLINE.test(table)).toBe(false);
        expect(table.split('\n')).toHaveLength(rows.length + 1);
        expect(FORBIDDEN_BUT_NEWLINE.test(safeLines(rows.map((r) => r[0]).join('\n')))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
