/**
 * The web console's assets (SPEC H5; docs/console.md), built once at `licensegate serve` start,
 * in memory: esbuild bundles console/src/main.tsx (Preact, TSX) into one minified script and the
 * plain CSS files of console/src/ are joined into one stylesheet. No build step a user can
 * forget, nothing written to disk, nothing fetched from elsewhere (works offline).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

/** console/src of this checkout. */
export const CONSOLE_SOURCE_DIR = join(import.meta.dirname, '../../console/src');

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  /** A strong ETag of the body. */
  etag: string;
}

export interface ConsoleBundle {
  html: ConsoleAsset;
  js: ConsoleAsset;
  css: ConsoleAsset;
  /** How long the build took (ms). */
  buildMs: number;
}

export class ConsoleBuildError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConsoleBuildError';
  }
}

function asset(body: string | Buffer, contentType: string): ConsoleAsset {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return { body: buf, contentType, etag: `"${createHash('sha256').update(buf).digest('base64url').slice(0, 27)}"` };
}

/** The HTML shell: no inline script or style (the CSP forbids both); assets named by their ETag so a new build is fetched at once. */
function shell(jsTag: string, cssTag: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>licensegate console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/app.css?v=${cssTag}">
<script type="module" src="/console/app.js?v=${jsTag}"></script>
</head>
<body>
<div id="app"><noscript>The licensegate console needs JavaScript.</noscript></div>
</body>
</html>
`;
}

/** The version tag the shell puts in the asset URLs (`?v=`). */
export const tagOf = (etag: string) => etag.replace(/"/g, '').slice(0, 12);

const built = new Map<string, Promise<ConsoleBundle>>();

/**
 * Builds the console once per process and source directory (tests start many services in one
 * process); a failure is a ConsoleBuildError naming what went wrong (first esbuild messages) and
 * is not remembered, so a later start tries again.
 */
export function buildConsole(sourceDir = CONSOLE_SOURCE_DIR): Promise<ConsoleBundle> {
  let p = built.get(sourceDir);
  if (!p) {
    p = buildConsoleNow(sourceDir);
    built.set(sourceDir, p);
    p.catch(() => built.delete(sourceDir));
  }
  return p;
}

async function buildConsoleNow(sourceDir: string): Promise<ConsoleBundle> {
  const started = performance.now();
  let js: string;
  try {
    const result = await build({
      entryPoints: [join(sourceDir, 'main.tsx')],
      bundle: true,
      write: false,
      minify: true,
      format: 'esm',
      target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
      jsx: 'automatic',
      jsxImportSource: 'preact',
      legalComments: 'none',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
    });
    const out = result.outputFiles[0];
    if (!out) throw new Error('esbuild produced no output');
    js = out.text;
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors;
    const detail = errors?.length
      ? errors.slice(0, 3).map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text)).join('; ')
      : (err as Error).message;
    throw new ConsoleBuildError(`the web console could not be built from ${sourceDir}: ${detail}`, { cause: err });
  }
  let css: string;
  try {
    const names = (await readdir(sourceDir)).filter((n) => n.endsWith('.css')).sort();
    css = (await Promise.all(names.map((n) => readFile(join(sourceDir, n), 'utf8')))).join('\n');
  } catch (err) {
    throw new ConsoleBuildError(`the web console's CSS could not be read from ${sourceDir}: ${(err as Error).message}`, { cause: err });
  }
  const jsAsset = asset(js, 'text/javascript; charset=utf-8');
  const cssAsset = asset(css, 'text/css; charset=utf-8');
  return {
    js: jsAsset,
    css: cssAsset,
    html: asset(shell(tagOf(jsAsset.etag), tagOf(cssAsset.etag)), 'text/html; charset=utf-8'),
    buildMs: Math.round(performance.now() - started),
  };
}
