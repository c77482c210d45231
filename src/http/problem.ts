/**
 * Errors of the admin HTTP API as RFC 9457 problem details (`application/problem+json`): the
 * catalogue's stable `code` (src/errors.ts) with its HTTP status, so a caller branches on the same
 * codes an admin job or the CLI reports.
 */
import type { ServerResponse } from 'node:http';
import { ERRORS, isErrorCode, LicensegateError, type ErrorCode } from '../errors.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  instance?: string;
  /** For INVALID_REQUEST: which fields are wrong and why. */
  errors?: { path: string; message: string }[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Anything thrown (LicensegateError, an admin job's coded error, or a fault) as a problem. */
export function problemOf(err: unknown, instance?: string): { problem: Problem; retryAfterMs: number } {
  let code: ErrorCode = 'INTERNAL_ERROR';
  let detail: string = ERRORS.INTERNAL_ERROR.message;
  let retryAfterMs = 0;
  let errors: Problem['errors'];
  if (err instanceof LicensegateError) {
    code = err.code;
    detail = err.message;
    retryAfterMs = err.retryAfterMs;
    const fields = (err as LicensegateError & { fields?: Problem['errors'] }).fields;
    if (fields) errors = fields;
  } else if (err instanceof Error) {
    // AdminJobError (src/admin/client.ts): a failed job's catalogue code and message.
    const jobCode: unknown = (err as unknown as { code?: unknown }).code;
    if (typeof jobCode === 'string' && isErrorCode(jobCode)) {
      code = jobCode;
      detail = err.message;
    }
  }
  const problem: Problem = {
    type: `urn:licensegate:error:${code}`,
    title: ERRORS[code].message,
    status: ERRORS[code].httpStatus,
    code,
    detail,
    ...(instance ? { instance } : {}),
    ...(errors ? { errors } : {}),
  };
  return { problem, retryAfterMs };
}

export function sendProblem(res: ServerResponse, err: unknown, instance?: string): Problem {
  const { problem, retryAfterMs } = problemOf(err, instance);
  if (res.headersSent) {
    res.destroy();
    return problem;
  }
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store' };
  if (retryAfterMs > 0) headers['retry-after'] = String(Math.ceil(retryAfterMs / 1000));
  if (problem.status === 401) headers['www-authenticate'] = 'Bearer realm="licensegate"';
  res.writeHead(problem.status, headers).end(JSON.stringify(problem));
  return problem;
}

/** INVALID_REQUEST carrying the field errors of zod failures (paths like `body.name`). */
export function invalidRequest(issues: readonly { path: readonly PropertyKey[]; message: string }[]): LicensegateError {
  const fields = issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const err = new LicensegateError('INVALID_REQUEST', fields.map((f) => `${f.path}: ${f.message}`).join('; '));
  return Object.assign(err, { fields });
}
