/**
 * Command-line parsing for `licensegate admin`: the command words, strict flags (node:util
 * parseArgs), and typed values. Every problem is an AdminUsageError: one line on stderr and
 * exit code 2, before anything connects to Redis.
 */
import { parseArgs } from 'node:util';
import { ALL_LICENSE_TYPES, type LicenseTypeName } from '../licensing/license-types.ts';

/** The command line is wrong: exit code 2. */
export class AdminUsageError extends Error {
  override readonly name = 'AdminUsageError';
}

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
}

/** Flags every admin command accepts, anywhere on the line. */
export const GLOBAL_FLAGS = {
  json: { type: 'boolean' },
  actor: { type: 'string' },
  // Remote mode (admin-connection.ts): the admin HTTP API instead of Redis.
  server: { type: 'string' },
  token: { type: 'string' },
  ca: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Record<string, FlagSpec>;

export interface ParsedLine {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

/**
 * Takes the first command word off the line, skipping only global flags before it; returns
 * undefined when the line has no word there (or another flag comes first).
 */
export function takeWord(args: readonly string[]): { word: string | undefined; rest: string[] } {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json' || a === '--help' || a === '-h' || /^--(actor|server|token|ca)=/.test(a)) continue;
    if (/^--(actor|server|token|ca)$/.test(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) break;
    return { word: a, rest: [...args.slice(0, i), ...args.slice(i + 1)] };
  }
  return { word: undefined, rest: [...args] };
}

/** Strict parse of a command's arguments: unknown flags, repeated flags and wrong values are refused. */
export function parseLine(args: readonly string[], flags: Record<string, FlagSpec>): ParsedLine {
  const options = { ...flags, ...GLOBAL_FLAGS };
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    const message = (err as Error).message;
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    throw new AdminUsageError(unknown ? `unknown flag ${unknown[1]}` : message.replace(/\s*\n\s*/g, ' '));
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name)) throw new AdminUsageError(`--${token.name} is given more than once`);
    seen.add(token.name);
  }
  return { positionals: parsed.positionals, values: parsed.values as ParsedLine['values'] };
}

/** Exactly these positionals, by name (for the message). */
export function expectPositionals(positionals: readonly string[], names: readonly string[]): string[] {
  if (positionals.length < names.length) throw new AdminUsageError(`missing ${names.slice(positionals.length).join(' ')}`);
  if (positionals.length > names.length) {
    throw new AdminUsageError(`unexpected argument "${positionals[names.length]}"${names.length ? ` (takes ${names.join(' ')})` : ''}`);
  }
  return [...positionals];
}

export function stringFlag(values: ParsedLine['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function booleanFlag(values: ParsedLine['values'], name: string): boolean {
  return values[name] === true;
}

export function requiredFlag(values: ParsedLine['values'], name: string, what: string): string {
  const v = stringFlag(values, name);
  if (v === undefined) throw new AdminUsageError(`--${name} ${what} is required`);
  return v;
}

/** A license type of SPEC L1. */
export function licenseType(text: string): LicenseTypeName {
  if (!(ALL_LICENSE_TYPES as readonly string[]).includes(text)) {
    throw new AdminUsageError(`--type "${text}" is not a license type (one of ${ALL_LICENSE_TYPES.join(', ')})`);
  }
  return text as LicenseTypeName;
}

/** A positive integer count. */
export function positiveCount(text: string): number {
  const n = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new AdminUsageError(`--count "${text}" is not a positive integer`);
  return n;
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A tenant id as the ledger spells them. */
export function tenantId(text: string): string {
  if (!ID.test(text)) throw new AdminUsageError(`tenant "${text}" is not a tenant id (1-64 characters of [A-Za-z0-9._-])`);
  return text;
}
