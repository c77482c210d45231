/**
 * The web console on the HTTP port (SPEC H5; docs/console.md): `/` is the HTML shell (hash
 * routes `#/overview`, `#/clients`, …), `/console/app.js` and `/console/app.css` the bundle.
 * Every answer carries a strict Content-Security-Policy (no inline script or style, nothing from
 * another origin), `X-Frame-Options: DENY`, `nosniff` and `no-referrer`. Conditional GETs are
 * answered 304 by ETag; the assets under their versioned URL are cached for good. The API (`/api/v1`) and `/setup` are other handlers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpHandler } from '../gateway/health-server.ts';
import { tagOf, type ConsoleAsset, type ConsoleBundle } from './console-bundle.ts';

export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Headers every console answer carries. */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

function etagMatches(req: IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (!header) return false;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

function send(req: IncomingMessage, res: ServerResponse, a: ConsoleAsset, cacheControl: string): void {
  const headers: Record<string, string> = { ...CONSOLE_SECURITY_HEADERS, etag: a.etag, 'cache-control': cacheControl };
  if (etagMatches(req, a.etag)) {
    res.writeHead(304, headers).end();
    return;
  }
  headers['content-type'] = a.contentType;
  headers['content-length'] = String(a.body.length);
  res.writeHead(200, headers);
  if (req.method === 'HEAD') res.end();
  else res.end(a.body);
}

/** A versioned asset URL (`?v=<its tag>`, as the shell names it) never changes: cached for a year; any other is revalidated. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

function cacheFor(query: string, a: ConsoleAsset): string {
  return new URLSearchParams(query).get('v') === tagOf(a.etag) ? IMMUTABLE : 'no-cache';
}

export function consoleHandler(bundle: ConsoleBundle): HttpHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const [path, query = ''] = (req.url ?? '/').split('?', 2) as [string, string?];
    switch (path) {
      case '/':
      case '/index.html':
        // The shell names the assets by version: always revalidated, so a restart's new build is used at once.
        send(req, res, bundle.html, 'no-cache');
        return true;
      case '/console/app.js':
        send(req, res, bundle.js, cacheFor(query, bundle.js));
        return true;
      case '/console/app.css':
        send(req, res, bundle.css, cacheFor(query, bundle.css));
        return true;
      default:
        return false;
    }
  };
}
