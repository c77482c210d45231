/**
 * Drops the shared prelude's definitions that a script does not use.
 *
 * WHY: Redis runs a script's whole source on every call (EVALSHA caches the compiled chunk, not
 * the values it defines), so every `local function` of the key prelude and the includes is
 * created again as a closure each time a script runs, whether the script calls it or not. With
 * ~90 definitions that was a third of an admin job's Redis time (bench job-throughput): Hello,
 * heartbeat flushes and acks paid it too. Keeping only what a script reaches makes each call
 * create just its own helpers; the text that remains is the prelude's own, in its own order.
 *
 * The prelude is split into top-level statements: a statement starts at a line with text in
 * column 0 (the includes' style: bodies are indented, `end` / `}` close at column 0). A `local`
 * statement is kept when a name it defines is referenced by the script's body or by a kept
 * statement; any other top-level statement is always kept. Names are matched as identifier
 * tokens anywhere in the text (strings and comments included), which can only keep too much,
 * never too little. A local can only refer to locals defined before it, so one pass from the
 * last statement to the first finds everything reachable.
 */

interface Statement {
  text: string;
  /** Names a `local` statement defines; null for any other statement (always kept). */
  defines: string[] | null;
}

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/g;

function statementsOf(prelude: string): Statement[] {
  const out: Statement[] = [];
  let current: string[] = [];
  const flush = () => {
    if (!current.length) return;
    const text = current.join('\n');
    out.push({ text, defines: definedNames(text) });
    current = [];
  };
  for (const line of prelude.split('\n')) {
    const startsStatement = /^\S/.test(line) && !/^(end\b|[})\]])/.test(line);
    if (startsStatement) flush();
    current.push(line);
  }
  flush();
  return out;
}

/** Names defined by a `local` statement (after its leading comment lines), or null. */
function definedNames(text: string): string[] | null {
  const code = text.split('\n').filter((l) => !/^\s*--/.test(l)).join('\n');
  if (!code.trim()) return []; // comments alone: kept only by chance, never needed
  const fn = /^local\s+function\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(code);
  if (fn) return [fn[1]!];
  const vars = /^local\s+([A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*(?:=|$)/m.exec(code);
  if (vars && vars.index === 0) return vars[1]!.split(',').map((s) => s.trim());
  return null;
}

/** The prelude with only the statements the body reaches (and every non-`local` statement). */
export function prunePrelude(prelude: string, body: string): string {
  const statements = statementsOf(prelude);
  if (statements.some((s) => /^--\[=*\[/m.test(s.text))) return prelude; // long comments: not split safely
  const needed = new Set(body.match(IDENTIFIER) ?? []);
  for (const s of statements) if (s.defines === null) for (const id of s.text.match(IDENTIFIER) ?? []) needed.add(id);
  const keep = new Array<boolean>(statements.length).fill(false);
  for (let i = statements.length - 1; i >= 0; i--) {
    const s = statements[i]!;
    if (s.defines === null) {
      keep[i] = true;
      continue;
    }
    if (!s.defines.some((n) => needed.has(n))) continue;
    keep[i] = true;
    for (const id of s.text.match(IDENTIFIER) ?? []) needed.add(id);
  }
  return statements.filter((_, i) => keep[i]).map((s) => s.text).join('\n');
}
