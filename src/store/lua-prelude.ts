/**
 * Keeps, of the shared Lua prelude (key builders and includes), only the definitions a script
 * uses — directly or through other kept definitions.
 *
 * Why: Redis runs a script's whole text on every EVALSHA, prelude included, so every
 * `local function` of every include becomes a new closure and every `local K_X = BASE .. '…'` a
 * new string on each call, whether the script uses it or not. With all includes (~22 KB) that
 * was ~30 µs per call on an idle server and ~100 µs on a busy one — more than the Redis work
 * of a reconnect's Hello itself (bench reconnect-storm: evalsha ~90 µs per call, its inner
 * commands ~20 µs). Each script now pays only for what it can call.
 *
 * How: the prelude's top level is a sequence of `local …` statements (functions, constants,
 * tables), each running until the next line that starts with `local` at column 0 (comments
 * before it are kept with the previous one). A statement defines the names after `local`
 * (`local function f`, `local A, B = …`) and depends on every identifier in its text. The kept
 * set starts with the identifiers of the script's body and grows to a fixpoint; kept
 * statements stay in their original order. Over-approximation is safe (an identifier in a
 * comment or string only keeps a statement that was not needed), under-approximation is not —
 * and cannot happen, since any use of a name is an identifier token in the text. A statement
 * whose text calls Redis at top level would have an effect of its own; the includes have none
 * (test/store/lua-prelude.test.ts checks), and such a statement is always kept.
 */

interface Statement {
  text: string;
  defines: string[];
  uses: Set<string>;
  /** Has an effect of its own when run (calls redis.*): never dropped. */
  effect: boolean;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/g;

function identifiers(text: string): Set<string> {
  return new Set(text.match(IDENT) ?? []);
}

/** Names a top-level `local` statement defines. */
function definedNames(firstLine: string): string[] {
  const fn = /^local\s+function\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(firstLine);
  if (fn) return [fn[1]!];
  const vars = /^local\s+([A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*)/.exec(firstLine);
  return vars ? vars[1]!.split(',').map((s) => s.trim()) : [];
}

/** Splits a prelude into its top-level statements (text before the first `local` is kept as its own). */
export function preludeStatements(prelude: string): Statement[] {
  const lines = prelude.split('\n');
  const out: Statement[] = [];
  let current: string[] = [];
  const close = () => {
    if (current.length === 0) return;
    const text = current.join('\n');
    const first = current.find((l) => l.startsWith('local')) ?? '';
    const defines = definedNames(first);
    const uses = identifiers(text);
    out.push({ text, defines, uses, effect: defines.length === 0 || (/\bredis\s*\.\s*p?call\b/.test(text) && !/^local\s+function\b/.test(first)) });
    current = [];
  };
  for (const line of lines) {
    if (/^local\s/.test(line)) close();
    current.push(line);
  }
  close();
  return out;
}

/** The prelude reduced to what `body` needs (see the module comment). */
export function shakePrelude(prelude: string, body: string): string {
  const statements = preludeStatements(prelude);
  const keep = new Array<boolean>(statements.length).fill(false);
  const needed = identifiers(body);
  let changed = true;
  while (changed) {
    changed = false;
    statements.forEach((s, i) => {
      if (keep[i]) return;
      if (s.effect || s.defines.some((name) => needed.has(name))) {
        keep[i] = true;
        changed = true;
        for (const u of s.uses) needed.add(u);
      }
    });
  }
  return statements.filter((_, i) => keep[i]).map((s) => s.text).join('\n');
}
