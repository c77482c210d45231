/**
 * The admin API from the browser (docs/api.md): `api.get/post/put/patch/del(path, body?)` below
 * /api/v1 with the session cookie and, on changes, the session's `X-CSRF-Token`. A problem answer
 * (RFC 9457) throws ApiError {status, code, detail, errors}; a 401 also tells the app, which goes
 * back to the sign-in page (the session ended or expired).
 */

export const API_BASE = '/api/v1';

export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    /** Seconds from Retry-After (LOGIN_RATE_LIMITED, RATE_LIMITED), when sent. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'ApiError';
  }
}

/** Any thrown value as an ApiError (a network failure becomes code NETWORK). */
export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof DOMException && err.name === 'AbortError') return new ApiError(0, 'ABORTED', 'the request was cancelled');
  return new ApiError(0, 'NETWORK', 'the server did not answer; check that licensegate is running');
}

let csrfToken: string | null = null;
let onUnauthorized: ((err: ApiError) => void) | null = null;

/** Set by session.ts after sign-in (and cleared at sign-out). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** The app's reaction to a 401 on any call but the sign-in itself. */
export function setUnauthorizedHandler(fn: ((err: ApiError) => void) | null): void {
  onUnauthorized = fn;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Extra headers (e.g. Idempotency-Key). */
  headers?: Record<string, string>;
  /** Do not call the 401 handler (the sign-in form handles its own 401). */
  quiet401?: boolean;
}

async function problemOf(res: Response): Promise<ApiError> {
  const retry = Number(res.headers.get('retry-after'));
  const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : undefined;
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const p = (body ?? {}) as { code?: unknown; detail?: unknown; title?: unknown; errors?: unknown };
  const code = typeof p.code === 'string' ? p.code : `HTTP_${res.status}`;
  const detail = typeof p.detail === 'string' ? p.detail : typeof p.title === 'string' ? p.title : res.statusText || 'request failed';
  const errors = Array.isArray(p.errors) ? (p.errors as FieldError[]) : [];
  return new ApiError(res.status, code, detail, errors, retryAfter);
}

/** Raw request: the Response of a success (JSON or not), an ApiError thrown otherwise. */
export async function request(method: string, path: string, body?: unknown, o: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(`${API_BASE}${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  } catch (err) {
    throw asApiError(err);
  }
  if (!res.ok) {
    const err = await problemOf(res);
    if (res.status === 401 && !o.quiet401) onUnauthorized?.(err);
    throw err;
  }
  return res;
}

async function json<T>(method: string, path: string, body?: unknown, o?: RequestOptions): Promise<T> {
  const res = await request(method, path, body, o);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  get: <T>(path: string, o?: RequestOptions) => json<T>('GET', path, undefined, o),
  post: <T>(path: string, body?: unknown, o?: RequestOptions) => json<T>('POST', path, body ?? {}, o),
  put: <T>(path: string, body?: unknown, o?: RequestOptions) => json<T>('PUT', path, body ?? {}, o),
  patch: <T>(path: string, body?: unknown, o?: RequestOptions) => json<T>('PATCH', path, body ?? {}, o),
  del: <T>(path: string, body?: unknown, o?: RequestOptions) => json<T>('DELETE', path, body, o),
  /** A path segment, encoded. */
  seg: (s: string) => encodeURIComponent(s),
  /** A query string from defined values (`?a=1&b=x`, or '' when empty). */
  query(params: Record<string, string | number | boolean | undefined | null>): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const s = q.toString();
    return s ? `?${s}` : '';
  },
};
