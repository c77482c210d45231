/**
 * Text that came from outside (an agent's hostname, OS and agent version, client id; anything
 * stored from a Hello) printed to an admin's terminal safely (SPEC Z5, R2). A terminal obeys
 * control characters: `ESC [2J` clears the screen, `ESC ]0;…BEL` retitles the window, OSC 8
 * forges links, a bare CR overwrites the line already printed, and Unicode bidi overrides make
 * `gpj.exe` read as `exe.jpg`. An agent controls those strings, so every table and text line the
 * CLI prints passes through here: each such character is shown as a visible escape (`\x1b`,
 * `\u202e`) instead of being sent. JSON output needs none of this: JSON.stringify escapes C0
 * controls, and a JSON consumer never interprets C1 or bidi characters as terminal commands.
 */

/**
 * Characters never sent as they are: C0 controls (U+0000–U+001F), DEL, C1 controls
 * (U+0080–U+009F: 8-bit CSI/OSC), bidi marks, embeddings, overrides and isolates (U+061C,
 * U+200E/F, U+202A–U+202E, U+2066–U+2069), the line and paragraph separators (U+2028/9), and
 * the BOM / zero-width no-break space (U+FEFF).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One line of untrusted text, every unsafe character shown as an escape (`\x1b`, `\u202e`). */
export function safeText(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/**
 * Lines of text for a terminal: each line made safe on its own, joined with `\n` again. For
 * text whose line breaks are the printer's own (a table); a CR inside a line is still escaped.
 */
export function safeLines(text: string): string {
  return text.split('\n').map(safeText).join('\n');
}

/** True when `text` holds a character that safeText would escape. */
export function hasUnsafeText(text: string): boolean {
  return new RegExp(UNSAFE.source).test(text);
}
