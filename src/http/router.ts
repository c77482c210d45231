/**
 * The admin API's router (SPEC H1): matches `/api/v1/…`, authenticates (H2), validates params,
 * query and body against the route's zod schemas (422 INVALID_REQUEST naming each field), runs
 * the handler, validates its answer against the response schema (a mismatch is our bug: 500,
 * logged) and writes JSON. Every error is a problem-details answer with its catalogue code.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { LicensegateError } from '../errors.ts';
import { IDEMPOTENCY_KEY } from '../jobs/contract.ts';
import { invalidRequest, sendProblem } from './problem.ts';
import type { Authenticator, Principal } from './principal.ts';
import { readJsonBody } from './request-body.ts';
import type { AnyRoute } from './route.ts';

export const API_BASE = '/api/v1';

export interface RouterOptions {
  routes: readonly AnyRoute[];
  authenticator: Authenticator;
  logger: Logger;
  /** The client's address of a request (X-Forwarded-For only from trusted proxies). */
  clientAddress(req: IncomingMessage): string;
}

interface CompiledRoute {
  route: AnyRoute;
  pattern: RegExp;
  names: string[];
}

/** `/tenants/{tenantId}` → a regex capturing each `{name}` segment. */
function compile(route: AnyRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const m = /^\{([A-Za-z0-9_]+)\}$/.exec(segment);
      if (!m) return segment.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');
      names.push(m[1]!);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}$`), names };
}

export class ApiRouter {
  private readonly compiled: CompiledRoute[];

  constructor(private readonly options: RouterOptions) {
    this.compiled = options.routes.map(compile);
    const seen = new Set<string>();
    for (const r of options.routes) {
      const key = `${r.method} ${r.path}`;
      if (seen.has(key)) throw new Error(`duplicate API route ${key}`);
      seen.add(key);
    }
  }

  /** An HttpHandler (health-server.ts): true when the request was an API request (answered). */
  handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== API_BASE && !url.pathname.startsWith(`${API_BASE}/`)) return false;
    const path = url.pathname.slice(API_BASE.length) || '/';
    try {
      await this.dispatch(req, res, path, url.searchParams);
    } catch (err) {
      const problem = sendProblem(res, err, url.pathname);
      const log = { method: req.method, path: url.pathname, code: problem.code, status: problem.status };
      if (problem.status >= 500) this.options.logger.error({ ...log, err }, 'admin API request failed');
      else this.options.logger.info(log, 'admin API request refused');
    }
    return true;
  };

  private async dispatch(req: IncomingMessage, res: ServerResponse, path: string, search: URLSearchParams): Promise<void> {
    let pathMatched = false;
    for (const c of this.compiled) {
      const m = c.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (c.route.method !== req.method && !(req.method === 'HEAD' && c.route.method === 'GET')) continue;
      const params: Record<string, string> = {};
      try {
        c.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
      } catch {
        throw new LicensegateError('INVALID_REQUEST', 'a path segment is not valid percent-encoding');
      }
      await this.run(c.route, req, res, params, search);
      return;
    }
    if (pathMatched) throw new LicensegateError('METHOD_NOT_ALLOWED', `${req.method} ${API_BASE}${path}`);
    throw new LicensegateError('ROUTE_NOT_FOUND', `${req.method} ${API_BASE}${path}`);
  }

  private async run(route: AnyRoute, req: IncomingMessage, res: ServerResponse, rawParams: Record<string, string>, search: URLSearchParams): Promise<void> {
    const sourceAddress = this.options.clientAddress(req);
    let principal: Principal | null = null;
    if (route.auth === 'account') {
      principal = await this.options.authenticator.authenticate(req, sourceAddress);
      if (!principal) throw new LicensegateError('UNAUTHENTICATED');
    }
    // Every part is checked before answering, so one 422 names every wrong field.
    const issues: Issue[] = [];
    const params = parse(route.params, rawParams, 'params', issues);
    const query = parse(route.query, Object.fromEntries(search), 'query', issues);
    const body = route.body ? parse(route.body, await readJsonBody(req), 'body', issues) : undefined;
    if (issues.length > 0) throw invalidRequest(issues);
    let idempotencyKey: string | undefined;
    const header = req.headers['idempotency-key'];
    if (route.idempotent && header !== undefined) {
      idempotencyKey = Array.isArray(header) ? header[0] : header;
      if (!idempotencyKey || !IDEMPOTENCY_KEY.test(idempotencyKey)) throw new LicensegateError('INVALID_REQUEST', 'Idempotency-Key must be 1-128 characters of [A-Za-z0-9._-]');
    }
    const result = await route.handler({ params, query, body, principal, idempotencyKey, sourceAddress, req, res });
    if (route.raw) return; // the handler answered (SSE, CSV)
    const checked = route.response.safeParse(result);
    if (!checked.success) {
      throw new LicensegateError('INTERNAL_ERROR', `${route.operationId} answered outside its schema: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const json = JSON.stringify(checked.data);
    res.writeHead(route.status ?? 200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : json);
  }
}

type Issue = { path: readonly PropertyKey[]; message: string };
type Parser<T> = { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: readonly Issue[] } } };

/** The parsed part, or its issues (prefixed with `where`) added to `issues`. */
function parse<T>(schema: Parser<T> | undefined, value: unknown, where: string, issues: Issue[]): T {
  if (!schema) return (value ?? {}) as T;
  const r = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (r.success) return r.data;
  for (const i of r.error.issues) issues.push({ path: [where, ...i.path], message: i.message });
  return undefined as T;
}
