/**
 * `licensegate keys …`: the vendor's tools for serial keys (SPEC S1).
 *
 *   keys keypair --out DIR [--force]     generate DIR/vendor.key (0600) and DIR/vendor.pub (0644)
 *   keys mint --private-key FILE …       print a signed serial key, alone, on stdout
 *   keys inspect KEY|- [--public-key F]  print a key's payload as JSON
 *
 * Exit codes: 0 done; 2 the command line is wrong (unknown flag, missing or malformed value,
 * a payload rule broken); 1 a well-formed command failed (file unreadable or not the right
 * kind of key, vendor.key exists, serial key invalid or not verified). Errors are one line on
 * stderr: `licensegate keys: <problem>`.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { ERRORS, LicensegateError } from '../errors.ts';
import { ALL_LICENSE_TYPES, type LicenseTypeName } from '../licensing/license-types.ts';
import {
  mintSerialKey,
  parseSerialKeyUnverified,
  SERIAL_KEY_ID_PATTERN,
  SERIAL_KEY_KINDS,
  verifySerialKey,
  type SerialKeyKind,
  type SerialKeyPayload,
} from '../licensing/serial-key.ts';
import { loadPrivateKey, loadPublicKey, VendorKeyExistsError, writeVendorKeyPair } from '../licensing/vendor-keys.ts';

const USAGE = `usage: licensegate keys <command>

commands:
  keypair --out DIR [--force]
      generate the vendor Ed25519 key pair: DIR/vendor.key (private, mode 0600, keep it
      secret) and DIR/vendor.pub (give it to gateways in VENDOR_PUBLIC_KEYS).
      An existing vendor.key is replaced only with --force.

  mint --private-key FILE --kind subscription|perpetual|trial --licenses TYPE=N[,TYPE=N...]
       [--expires WHEN] [--support-until WHEN] [--issued ISO] [--edition NAME]
       [--key-id ID] [--multi-tenant]
      sign a serial key and print it alone on stdout (KEY=$(licensegate keys mint ...)).
      --expires is required for subscription and trial keys, refused for perpetual ones;
      --support-until is for perpetual keys only. WHEN is an ISO date or date-time
      (2027-01-01, 2027-01-01T00:00:00Z) or a time after --issued: +30d, +2h, +15m, +90s, +2w.
      Defaults: --issued now, --edition standard, --key-id K-<10 random characters>.

  inspect KEY|- [--public-key FILE ...]
      print the key's payload as JSON ("-" reads the key from stdin). With --public-key the
      signature is verified (exit 1 if it does not verify); without, it is shown unverified.

license types: ${ALL_LICENSE_TYPES.join(', ')}`;

/** A problem with the command line: exit code 2. */
class UsageError extends Error {}

const err = (problem: string): void => {
  console.error(`licensegate keys: ${problem.replace(/\s*\n\s*/g, ' ')}`);
};

function parse<T extends ParseArgsConfig['options']>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export async function runKeys(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(USAGE);
    return 0;
  }
  try {
    switch (sub) {
      case 'keypair':
        return runKeypair(rest);
      case 'mint':
        return runMint(rest);
      case 'inspect':
        return await runInspect(rest);
      case undefined:
        throw new UsageError(`missing command (keypair, mint or inspect); see licensegate keys --help`);
      default:
        throw new UsageError(`unknown command "${sub}" (keypair, mint or inspect); see licensegate keys --help`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(e.message);
      return 2;
    }
    if (e instanceof LicensegateError) {
      err(`${e.message} (${e.code})`);
      return 1;
    }
    err((e as Error).message ?? String(e));
    return 1;
  }
}

function runKeypair(args: string[]): number {
  const { values } = parse(args, { out: { type: 'string' }, force: { type: 'boolean' } });
  if (values.help) return help();
  if (!values.out) throw new UsageError('keypair needs --out DIR');
  let written;
  try {
    written = writeVendorKeyPair(values.out, { force: values.force === true });
  } catch (e) {
    if (e instanceof VendorKeyExistsError) throw new Error(`${e.message}; pass --force to replace it`);
    throw e;
  }
  console.log(written.privateKeyPath);
  console.log(written.publicKeyPath);
  console.error(`licensegate keys: keep ${written.privateKeyPath} secret; configure gateways with VENDOR_PUBLIC_KEYS=${written.publicKeyPath}`);
  return 0;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** `K-` + 10 random base32 characters (50 bits). */
export function randomKeyId(): string {
  return `K-${Array.from(randomBytes(10), (b) => BASE32[b & 31]).join('')}`;
}

const RELATIVE_UNITS_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const isoDateTime = z.iso.datetime({ offset: true });
const isoDate = z.iso.date();

/** An ISO date (midnight UTC) or date-time with Z/offset, as a canonical UTC ISO string. */
function parseInstant(flag: string, text: string): string {
  const t = text.trim();
  if (!isoDate.safeParse(t).success && !isoDateTime.safeParse(t).success) {
    throw new UsageError(`--${flag} "${text}" is not an ISO date (2027-01-01) or date-time with a zone (2027-01-01T00:00:00Z)`);
  }
  const ms = Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t);
  if (!Number.isFinite(ms)) throw new UsageError(`--${flag} "${text}" is not a valid date`);
  return new Date(ms).toISOString();
}

/** ISO, or `+<n><unit>` after `fromMs`. */
function parseWhen(flag: string, text: string, fromMs: number): string {
  const m = /^\+(\d{1,9})([smhdw])$/.exec(text.trim());
  if (!m) return parseInstant(flag, text);
  const n = Number(m[1]);
  if (n === 0) throw new UsageError(`--${flag} "${text}" must be after --issued`);
  return new Date(fromMs + n * RELATIVE_UNITS_MS[m[2]!]!).toISOString();
}

function parseLicenses(text: string): Partial<Record<LicenseTypeName, number>> {
  const licenses: Partial<Record<LicenseTypeName, number>> = {};
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new UsageError('--licenses is empty; give TYPE=N[,TYPE=N...]');
  for (const part of parts) {
    const m = /^([a-z-]+)\s*=\s*(\d{1,9})$/.exec(part);
    if (!m) throw new UsageError(`--licenses: "${part}" is not TYPE=N`);
    const type = m[1] as LicenseTypeName;
    if (!ALL_LICENSE_TYPES.includes(type)) throw new UsageError(`--licenses: unknown license type "${m[1]}" (one of ${ALL_LICENSE_TYPES.join(', ')})`);
    if (licenses[type] !== undefined) throw new UsageError(`--licenses: "${type}" is given twice`);
    licenses[type] = Number(m[2]);
  }
  return licenses;
}

function runMint(args: string[]): number {
  const { values } = parse(args, {
    'private-key': { type: 'string' },
    kind: { type: 'string' },
    expires: { type: 'string' },
    licenses: { type: 'string' },
    'multi-tenant': { type: 'boolean' },
    'key-id': { type: 'string' },
    edition: { type: 'string' },
    'support-until': { type: 'string' },
    issued: { type: 'string' },
  });
  if (values.help) return help();
  const privateKeyFile = values['private-key'];
  if (!privateKeyFile) throw new UsageError('mint needs --private-key FILE (the vendor.key from keys keypair)');
  if (!values.kind) throw new UsageError(`mint needs --kind (${SERIAL_KEY_KINDS.join(', ')})`);
  if (!(SERIAL_KEY_KINDS as readonly string[]).includes(values.kind)) {
    throw new UsageError(`--kind "${values.kind}" is not one of ${SERIAL_KEY_KINDS.join(', ')}`);
  }
  const kind = values.kind as SerialKeyKind;
  if (values.licenses === undefined) throw new UsageError('mint needs --licenses TYPE=N[,TYPE=N...]');
  const licenses = parseLicenses(values.licenses);
  if (kind === 'perpetual' && values.expires !== undefined) throw new UsageError('a perpetual key does not expire; drop --expires (use --support-until)');
  if (kind !== 'perpetual' && values.expires === undefined) throw new UsageError(`a ${kind} key needs --expires`);
  if (kind !== 'perpetual' && values['support-until'] !== undefined) throw new UsageError('--support-until is for perpetual keys only');
  const keyId = values['key-id'] ?? randomKeyId();
  if (!SERIAL_KEY_ID_PATTERN.test(keyId)) throw new UsageError(`--key-id "${keyId}" must be 3-64 characters of [A-Za-z0-9._-], starting with a letter or digit`);

  const issuedAt = values.issued !== undefined ? parseInstant('issued', values.issued) : new Date().toISOString();
  const issuedMs = Date.parse(issuedAt);
  const payload: SerialKeyPayload = {
    v: 1,
    keyId,
    edition: values.edition ?? 'standard',
    kind,
    licenses,
    issuedAt,
    multiTenant: values['multi-tenant'] === true,
  };
  if (values.expires !== undefined) payload.expiresAt = parseWhen('expires', values.expires, issuedMs);
  if (values['support-until'] !== undefined) payload.supportUntil = parseWhen('support-until', values['support-until'], issuedMs);

  const privateKey = loadPrivateKey(privateKeyFile);
  let key: string;
  try {
    key = mintSerialKey(payload, privateKey);
  } catch (e) {
    // Everything in the payload came from the command line.
    if (e instanceof LicensegateError && e.code === 'SERIAL_KEY_INVALID') {
      throw new UsageError(`the key would break a rule: ${e.message.slice(ERRORS.SERIAL_KEY_INVALID.message.length).replace(/^: /, '')}`);
    }
    throw e;
  }
  process.stdout.write(`${key}\n`);
  return 0;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > 65_536) throw new UsageError('stdin is too large to be a serial key');
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function runInspect(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { 'public-key': { type: 'string', multiple: true } }, true);
  if (values.help) return help();
  if (positionals.length !== 1) throw new UsageError(`inspect takes one serial key (or "-" for stdin), got ${positionals.length}`);
  const key = positionals[0] === '-' ? await readStdin() : positionals[0]!;
  const files = values['public-key'] ?? [];
  const publicKeys = files.map((f) => loadPublicKey(f));
  const payload = publicKeys.length > 0 ? verifySerialKey(key, publicKeys) : parseSerialKeyUnverified(key);
  console.log(JSON.stringify({ verified: publicKeys.length > 0, payload }, null, 2));
  return 0;
}

function help(): number {
  console.log(USAGE);
  return 0;
}
