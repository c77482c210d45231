/**
 * What `licensegate admin` prints. Results: JSON on stdout with --json, else a table. Failures:
 * `{"error":{"code","message"}}` on stdout with --json, else `licensegate admin: CODE: message`
 * on stderr. Usage errors: one line on stderr.
 */
import { AdminJobError } from '../admin/client.ts';
import { ERRORS, isErrorCode, LicensegateError, type ErrorCode } from '../errors.ts';
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

/**
 * The catalogue's words for an option ("force it") as the flag a CLI user types (issue 12).
 * The message starts with the catalogue text (LicensegateError: `<text>: <detail>`), so that
 * part is replaced and any detail kept; the code stays the same.
 */
const AS_TYPED: Partial<Record<ErrorCode, string>> = {
  LICENSES_IN_USE: 'that many licenses are assigned; pass --force to take them back anyway (longest offline first)',
  LICENSE_TYPE_MISMATCH: "the license type does not fit the client's OS; pass --force to assign it anyway",
  NO_MATCHING_TYPE: "the client's OS matches no license type; name one with --type and pass --force",
};

function asTyped(code: string, message: string): string {
  const text = isErrorCode(code) ? AS_TYPED[code] : undefined;
  if (text === undefined || !isErrorCode(code)) return message;
  const base = ERRORS[code].message;
  return message.startsWith(base) ? text + message.slice(base.length) : message;
}

/** Any failure as a stable code and a one-line message (unknown faults are INTERNAL_ERROR). */
export function describeFailure(err: unknown): FailureJson['error'] {
  const known = err instanceof LicensegateError ? err : connectionFailure(err);
  if (known) return { code: known.code, message: oneLine(asTyped(known.code, known.message)) };
  if (err instanceof AdminJobError) return { code: err.code, message: oneLine(asTyped(err.code, err.message)) };
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
