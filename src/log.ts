/**
 * The process's one pino logger. JSON by default; pretty only when asked or on a TTY.
 *
 * Secrets are never logged (SPEC Z2): no code passes a token, credential, proof, password or
 * private key to the logger. The redaction below is only the backstop for a mistake — a field
 * with one of these names, at the top or one or two levels down, prints as "[redacted]". It
 * also covers the one place a library puts a secret into an error we log: an ioredis
 * ReplyError keeps the failed command, whose args are AUTH's password.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

const SECRET_FIELDS = [
  'enrollmentToken', 'enrollToken', 'enrollmentProof', 'clientCredential', 'credential', 'token', 'secret',
  'password', 'pass', 'requirepass', 'masterauth', 'authorization', 'privateKey', 'redisUrl', 'url',
  // admin accounts (SPEC H2): sessions, CSRF and set-up tokens, API tokens, cookies
  'sessionId', 'csrfToken', 'setupToken', 'setupUrl', 'apiToken', 'cookie',
];

/** The redaction paths: each secret field at depth 0, 1 and 2, and failed commands' arguments. */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
  'command.args', '*.command.args', '*.*.command.args', 'args', '*.args',
];

/** `destination`: where JSON lines go (default stdout; tests read them). */
export function createLogger(level: string, format: 'auto' | 'json' | 'pretty' = 'auto', destination?: DestinationStream): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  const redact = { paths: [...REDACT_PATHS], censor: '[redacted]' };
  if (!pretty) return destination ? pino({ level, redact, base: { pid: process.pid } }, destination) : pino({ level, redact, base: { pid: process.pid } });
  return pino({ level, redact, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
}
