/**
 * Serving the web console (SPEC H5; src/console/): the in-memory esbuild bundle, the handler's
 * headers (strict CSP, nosniff, no-referrer, frame denial, ETag/304), a build failure as a clear
 * start-up error, CONSOLE=off, and the console URL on the ready line. No browser here.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole, CONSOLE_SOURCE_DIR, ConsoleBuildError, type ConsoleBundle } from '../../src/console/console-bundle.ts';
import { CONSOLE_CSP, consoleHandler } from '../../src/console/console-handler.ts';
import { startupFailure } from '../../src/startup-error.ts';
import { startApiStack } from '../helpers/api-stack.ts';

let bundle: ConsoleBundle;
let server: Server;
let base: string;
const tmp = mkdtempSync(join(tmpdir(), 'console-src-'));

beforeAll(async () => {
  bundle = await buildConsole();
  const handler = consoleHandler(bundle);
  server = createServer((req, res) => {
    void handler(req, res).then((done) => {
      if (!done) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

describe('console serving (H5)', () => {
  it('H5: the bundle is built in memory, minified and small (Preact included), CSS joined', () => {
    const js = bundle.js.body.toString();
    expect(bundle.js.body.length).toBeLessThan(150_000);
    expect(js).not.toMatch(/\n\s{2,}\S/); // minified
    expect(js).toContain('/api/v1');
    expect(bundle.css.body.toString()).toContain('system-ui');
    expect(bundle.html.body.toString()).toMatch(/<script type="module" src="\/console\/app\.js\?v=[\w-]+"><\/script>/);
  });

  it('H5: /, /console/app.js and /console/app.css carry the strict CSP and the security headers; other paths are left to other handlers', async () => {
    for (const [path, type] of [
      ['/', 'text/html'],
      ['/console/app.js', 'text/javascript'],
      ['/console/app.css', 'text/css'],
    ] as const) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('etag')).toMatch(/^"[\w-]+"$/);
      await res.arrayBuffer();
    }
    expect(CONSOLE_CSP).toContain("default-src 'self'");
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
    expect((await fetch(`${base}/api/v1/licenses`)).status).toBe(404); // not the console's
    expect((await fetch(`${base}/setup`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(404);
  });

  it('H5: a conditional GET with the ETag answers 304 without a body', async () => {
    const first = await fetch(`${base}/console/app.js`);
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    const again = await fetch(`${base}/console/app.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    // The shell's versioned URL is cached for good (a new build has a new URL); the shell is always revalidated.
    const shell = await (await fetch(`${base}/`)).text();
    const versioned = /src="(\/console\/app\.js\?v=[\w-]+)"/.exec(shell)![1]!;
    expect((await fetch(`${base}${versioned}`)).headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${base}/console/app.js?v=old`)).headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${base}/`)).headers.get('cache-control')).toBe('no-cache');
  });

  it('H5 R3: a console that does not build is a clear start-up error (step console, recovery CONSOLE=off), not a crash', async () => {
    const broken = join(tmp, 'src');
    cpSync(CONSOLE_SOURCE_DIR, broken, { recursive: true });
    writeFileSync(join(broken, 'main.tsx'), 'import { App } from "./app.tsx";\nexport const x = <App;\n');
    const err = await buildConsole(broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConsoleBuildError);
    expect((err as Error).message).toMatch(/the web console could not be built from .*main\.tsx:2: /);
    const failure = startupFailure('console', err, { dataDir: '/d', keyPrefix: 'lg', gatewayHost: '127.0.0.1', gatewayPort: 0, httpPort: 0, embedded: true });
    expect(failure.message).toContain('console: the web console could not be built');
    expect(failure.recovery).toContain('CONSOLE=off');
    expect(failure.expected).toBe(true); // no stack trace: the operator gets the message and the fix
  });

  it('H5: the ready line prints console=<url>, which serves the console; CONSOLE=off serves none and prints none', async () => {
    const on = await startApiStack('conon');
    try {
      const line = on.gw.output().split('\n').find((l) => l.startsWith('licensegate ready '))!;
      const url = / console=(\S+)/.exec(line)?.[1];
      expect(url).toBe(`${on.base}/`);
      const res = await fetch(url!);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('/console/app.js');
      expect((await fetch(`${on.base}/healthz`)).status).toBe(200); // the other paths of the port are unchanged
      expect((await fetch(`${on.base}/setup`)).headers.get('content-type')).toContain('text/html');
    } finally {
      await on.stop();
    }
    const off = await startApiStack('conoff', { CONSOLE: 'off' });
    try {
      expect(off.gw.output()).not.toContain('console=');
      expect((await fetch(`${off.base}/`)).status).toBe(404);
      expect((await fetch(`${off.base}/console/app.js`)).status).toBe(404);
      expect((await off.call(null, 'GET', '/openapi.json')).status).toBe(200);
    } finally {
      await off.stop();
    }
  });
});
