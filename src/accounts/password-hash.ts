/**
 * Admin passwords (SPEC H2, Z2): hashed with scrypt, the memory-hard KDF node:crypto ships (no
 * native dependency). N=2^15, r=8, p=1 needs 32 MiB per hash, so guessing on GPUs is slow and
 * costly. The stored form names its parameters and salt (`scrypt$N$r$p$salt$hash`, base64url),
 * so the parameters can be raised later and old hashes still verify.
 *
 * Verification compares with timingSafeEqual. `verifyUnknown` runs the same scrypt on a dummy
 * hash, so a login for a name that does not exist costs what a wrong password costs: timing
 * does not tell which names exist.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { LicensegateError } from '../errors.ts';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** The parameters new hashes use (docs/accounts.md has the time each takes on the dev box). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Highest N accepted from a stored hash: a corrupt or hostile record must not make us allocate GBs. */
const MAX_N = 2 ** 20;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  // scrypt uses 128·N·r bytes; node's default cap (32 MiB) is exactly N=2^15, r=8: leave headroom.
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Refuses passwords outside 12–256 characters (PASSWORD_POLICY, 422). */
export function checkPasswordPolicy(password: string): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw new LicensegateError('PASSWORD_POLICY', `this one has ${length}`);
  }
}

/** The stored form of a new password: `scrypt$N$r$p$<salt>$<hash>`. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  checkPasswordPolicy(password);
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface Parsed {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

function parse(stored: string): Parsed | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (!Number.isInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0) return null;
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) return null;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const key = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || key.length !== KEY_LENGTH) return null;
  return { params: { N, r, p }, salt, key };
}

/** A fixed hash of nothing anyone knows, with the default parameters: what unknown names verify against. */
let dummy: Promise<string> | undefined;

/** True when `password` matches the stored hash. A malformed stored value never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (password.length > PASSWORD_MAX_LENGTH * 4) return false; // never hash megabytes
  const parsed = parse(stored);
  if (!parsed) {
    await verifyUnknown(password);
    return false;
  }
  const key = await derive(password, parsed.salt, parsed.params);
  return timingSafeEqual(key, parsed.key);
}

/** Costs what verifying a real account's password costs, and is always false (no enumeration by timing). */
export async function verifyUnknown(password: string): Promise<false> {
  dummy ??= hashPassword(randomBytes(24).toString('base64url'));
  const parsed = parse(await dummy)!;
  const key = await derive(password.slice(0, PASSWORD_MAX_LENGTH * 4), parsed.salt, parsed.params);
  timingSafeEqual(key, parsed.key);
  return false;
}
