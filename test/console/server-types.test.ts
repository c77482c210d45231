/**
 * SPEC H5 H1: the web console reads the server's answers with the server's own types — the zod
 * schemas of the routes (z.infer, type-only imports) and the dependency-free value lists (event
 * types, license types) — so a server change the console does not follow fails the console's
 * typecheck (`tsc -p console/tsconfig.json`, part of `npm test`). Proved here by compiling the
 * console project with one server field renamed in memory and expecting the console to break.
 * And the bundle stays a browser bundle: esbuild includes from src/ only the dependency-free
 * modules, never zod, Node built-ins or Redis clients.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { CONSOLE_SOURCE_DIR } from '../../src/console/console-bundle.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CONFIG = join(ROOT, 'console/tsconfig.json');

function parsedConfig(): ts.ParsedCommandLine {
  const read = ts.readConfigFile(CONFIG, (p) => ts.sys.readFile(p));
  return ts.parseJsonConfigFileContent(read.config, ts.sys, join(ROOT, 'console'));
}

/** Parsed once: the lib, zod and preact declarations are the same in every compile. */
const sourceFiles = new Map<string, ts.SourceFile>();

/** Compiles the console project with `edits` (server file → [from, to] pairs) applied in memory; returns "file: message" per error. */
function compile(edits: Record<string, [string, string][]>): string[] {
  const cfg = parsedConfig();
  const host = ts.createCompilerHost(cfg.options);
  const changed = new Map<string, string>();
  for (const [file, pairs] of Object.entries(edits)) {
    let text = readFileSync(join(ROOT, file), 'utf8');
    for (const [from, to] of pairs) {
      expect(text, `${file} holds ${from}`).toContain(from);
      text = text.replace(from, to);
    }
    changed.set(join(ROOT, file), text);
  }
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, fresh) => {
    const text = changed.get(resolve(name));
    if (text !== undefined) return ts.createSourceFile(name, text, lang);
    let sf = sourceFiles.get(name);
    if (!sf) {
      sf = getSourceFile(name, lang, onError, fresh);
      if (sf) sourceFiles.set(name, sf);
    }
    return sf;
  };
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => changed.get(resolve(name)) ?? readFile(name);
  const program = ts.createProgram({ rootNames: cfg.fileNames, options: cfg.options, host });
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? d.file.fileName.slice(ROOT.length + 1) : '?'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
}

describe("the console's types are the server's (H5 H1)", () => {
  it("H5 H1: renaming a field of a server answer, or an event type, fails the console's typecheck where the console reads it", () => {
    expect(compile({})).toEqual([]); // as committed, the console compiles

    // Five server changes at once (one compile: a compile of the console costs seconds).
    const errors = compile({
      'src/http/routes/audit-schema.ts': [['  actor: z.string(),', '  actorId: z.string(),']],
      'src/http/routes/client-schemas.ts': [
        ['  hostname: z.string(),\n  status:', '  hostName: z.string(),\n  status:'],
        ['  osType: osTypeSchema,\n});\nexport type ClientRowAnswer', '  mappedType: osTypeSchema,\n});\nexport type ClientRowAnswer'],
      ],
      'src/events/event-types.ts': [["  'license.assigned',", "  'license.granted',"]],
      'src/licensing/permission-names.ts': [["  tenants: 'tenant-management-and-system-configuration',", "  system: 'tenant-management-and-system-configuration',"]],
    });
    const hit = (file: string, word: string) => errors.some((e) => e.startsWith(`console/src/${file}:`) && e.includes(word));
    expect(hit('pages/audit-page.tsx', "'actor'"), errors.join('\n')).toBe(true);
    expect(hit('pages/clients-page.tsx', "'hostname'"), errors.join('\n')).toBe(true);
    expect(hit('pages/clients-page.tsx', "'osType'"), errors.join('\n')).toBe(true);
    expect(hit('pages/clients-page.tsx', 'license.assigned'), errors.join('\n')).toBe(true);
    expect(hit('pages/keys-page.tsx', "'tenants'"), errors.join('\n')).toBe(true);
  }, 120_000);

  it('H5: the browser bundle takes from src/ only the dependency-free shared modules (no zod, no Node built-ins, no Redis client)', async () => {
    const r = await build({
      entryPoints: [join(CONSOLE_SOURCE_DIR, 'main.tsx')],
      bundle: true,
      write: false,
      format: 'esm',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: ROOT,
    });
    const inputs = Object.keys(r.metafile.inputs);
    const outside = inputs.filter((f) => !f.startsWith('console/src/') && !/node_modules\/preact\//.test(f)).sort();
    expect(outside).toEqual(['src/events/event-types.ts', 'src/licensing/license-types.ts', 'src/licensing/permission-names.ts']);
    for (const f of outside) expect(readFileSync(join(ROOT, f), 'utf8')).not.toMatch(/^import /m); // they import nothing
    const text = r.outputFiles[0]!.text;
    expect(text).toContain('license.unassigned'); // the event list is the server's, bundled
    expect(text).not.toMatch(/node:|ioredis|from "zod"/);
  });
});
