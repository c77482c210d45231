/**
 * What `licensegate admin` prints. Results: JSON on stdout with --json, else a table. Failures:
 * `{"error":{"code","message"}}` on stdout with --json, else `licensegate admin: CODE: message`
 * on stderr. Usage errors: one line on stderr.
 */
import { AdminJobError } from '../admin/client.ts';
import { LicensegateError } from '../errors.ts';
import type { FailureJson } from './admin-json.ts';
import { connectionFailure } from './admin-connection.ts';
import { safeLines, safeText } from './safe-text.ts';

export const PROGRAM = 'licensegate admin';

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

export function printResult(json: boolean, result: unknown, human: string): void {
  // Views escape their cells already; safeLines is the backstop for any text a view adds.
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${safeLines(human)}\n`);
}

/** Any failure as a stable code and a one-line message (unknown faults are INTERNAL_ERROR). */
export function describeFailure(err: unknown): FailureJson['error'] {
  const known = err instanceof LicensegateError ? err : connectionFailure(err);
  if (known) return { code: known.code, message: oneLine(known.message) };
  if (err instanceof AdminJobError) return { code: err.code, message: oneLine(err.message) };
  const detail = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL_ERROR', message: oneLine(`internal error: ${detail}`) };
}

export function printFailure(json: boolean, err: unknown): void {
  const error = describeFailure(err);
  if (json) {
    const body: FailureJson = { error: { code: error.code, message: error.message } };
    process.stdout.write(`${JSON.stringify(body)}\n`);
  } else {
    process.stderr.write(`${PROGRAM}: ${error.code}: ${safeText(error.message)}\n`);
  }
}

export function printUsageError(problem: string): void {
  process.stderr.write(`${PROGRAM}: ${safeText(oneLine(problem))} (see ${PROGRAM} --help)\n`);
}
