/**
 * SPEC S1: the vendor's Ed25519 key pair. The private key (`vendor.key`, PKCS#8 PEM, mode 0600)
 * stays with the vendor and mints serial keys; gateways are configured with public keys only
 * (`VENDOR_PUBLIC_KEYS`: SPKI PEM files or inline PEM, comma-separated, so keys can be rotated
 * by listing old and new together).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const VENDOR_PRIVATE_KEY_FILE = 'vendor.key';
export const VENDOR_PUBLIC_KEY_FILE = 'vendor.pub';

/** Longest PEM text (file or inline) accepted; an Ed25519 key is well under 200 characters. */
const MAX_PEM_CHARS = 16_384;

export interface VendorKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface WrittenVendorKeyPair {
  privateKeyPath: string;
  publicKeyPath: string;
}

/** `writeVendorKeyPair` found a `vendor.key` and was not told to replace it. */
export class VendorKeyExistsError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`${path} already exists; refusing to replace the vendor private key (keys minted with it would no longer verify)`);
    this.name = 'VendorKeyExistsError';
    this.path = path;
  }
}

export function generateVendorKeyPair(): VendorKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

function tempPath(dir: string, name: string): string {
  return join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes `text` to a fresh temporary file with exactly `mode`, then renames it over `path`. */
function writeReplacing(dir: string, path: string, name: string, text: string, mode: number): void {
  const tmp = tempPath(dir, name);
  try {
    writeFileSync(tmp, text, { mode, flag: 'wx' });
    chmodSync(tmp, mode); // the umask may have removed bits
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Generates a key pair into `dir` (created if missing): `vendor.key` (PKCS#8 PEM, 0600) and
 * `vendor.pub` (SPKI PEM, 0644). An existing `vendor.key` is never replaced unless `force`
 * (VendorKeyExistsError); an existing `vendor.pub` is replaced.
 */
export function writeVendorKeyPair(dir: string, options: { force?: boolean } = {}): WrittenVendorKeyPair {
  const base = resolve(dir);
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const privateKeyPath = join(base, VENDOR_PRIVATE_KEY_FILE);
  const publicKeyPath = join(base, VENDOR_PUBLIC_KEY_FILE);
  const { privateKeyPem, publicKeyPem } = generateVendorKeyPair();
  if (options.force) {
    writeReplacing(base, privateKeyPath, VENDOR_PRIVATE_KEY_FILE, privateKeyPem, 0o600);
  } else {
    try {
      // O_EXCL: fails on an existing file or symlink, with no window between check and write.
      writeFileSync(privateKeyPath, privateKeyPem, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new VendorKeyExistsError(privateKeyPath);
      throw err;
    }
    chmodSync(privateKeyPath, 0o600);
  }
  writeReplacing(base, publicKeyPath, VENDOR_PUBLIC_KEY_FILE, publicKeyPem, 0o644);
  return { privateKeyPath, publicKeyPath };
}

/**
 * One PEM block, tidied: tolerates literal `\n` escapes and line breaks turned into spaces
 * (common when PEM travels through environment variables). Returns the label and the PEM.
 */
function normalizePem(text: string): { label: string; pem: string } | null {
  const t = text.replace(/\\n/g, '\n').trim();
  const m = /^-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\s]*)-----END \1-----$/.exec(t);
  if (!m) return null;
  const label = m[1]!;
  const body = m[2]!.replace(/\s+/g, '');
  if (body === '') return null;
  return { label, pem: `-----BEGIN ${label}-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n` };
}

function publicKeyFromPem(text: string, name: string): KeyObject {
  if (text.length > MAX_PEM_CHARS) throw new Error(`${name}: too large to be a public key`);
  const block = normalizePem(text);
  if (!block) throw new Error(`${name}: not a PEM public key (expected -----BEGIN PUBLIC KEY-----)`);
  if (block.label.includes('PRIVATE')) throw new Error(`${name}: is a private key; configure the vendor PUBLIC key (vendor.pub), never the private one`);
  if (block.label !== 'PUBLIC KEY') throw new Error(`${name}: not a PEM public key (found -----BEGIN ${block.label}-----, expected -----BEGIN PUBLIC KEY-----)`);
  let key: KeyObject;
  try {
    key = createPublicKey(block.pem);
  } catch (err) {
    throw new Error(`${name}: not a valid public key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${name}: not an Ed25519 public key (it is ${key.asymmetricKeyType ?? 'unknown'})`);
  return key;
}

function isInlinePem(entry: string): boolean {
  return entry.startsWith('-----BEGIN');
}

/**
 * One public key: a path to a PEM file, or inline PEM text (starts with `-----BEGIN`). Must be
 * an Ed25519 SPKI public key; otherwise an Error whose message starts with `label`.
 */
export function loadPublicKey(entry: string, label?: string): KeyObject {
  const e = entry.trim();
  if (isInlinePem(e)) return publicKeyFromPem(e, label ?? 'inline public key');
  label ??= `public key ${e}`;
  let text: string;
  try {
    text = readFileSync(resolve(e), 'utf8');
  } catch (err) {
    throw new Error(`${label}: cannot read file (${(err as Error).message})`);
  }
  return publicKeyFromPem(text, label);
}

/**
 * The vendor public keys from `VENDOR_PUBLIC_KEYS`: comma-separated entries, each a path to a
 * PEM file or an inline PEM (which contains no commas). Empty entries are ignored; an empty
 * spec gives []. A bad entry throws an Error naming it (its position and, for files, its path).
 */
export function loadPublicKeys(spec: string): KeyObject[] {
  const entries = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return entries.map((entry, i) =>
    loadPublicKey(entry, `VENDOR_PUBLIC_KEYS entry ${i + 1} (${isInlinePem(entry) ? 'inline PEM' : entry})`),
  );
}

/** The vendor's Ed25519 private key from a PEM file (PKCS#8). */
export function loadPrivateKey(file: string): KeyObject {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`vendor private key ${file}: cannot read file (${(err as Error).message})`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (err) {
    throw new Error(`vendor private key ${file}: not a PEM private key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`vendor private key ${file}: not an Ed25519 key (it is ${key.asymmetricKeyType ?? 'unknown'})`);
  return key;
}
