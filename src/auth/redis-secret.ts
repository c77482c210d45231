/**
 * The embedded Redis's password (SPEC Z2: "the embedded Redis is not reachable without a
 * secret"). Any local user can open a TCP connection to 127.0.0.1, so the zero-config Redis
 * requires a password that only the account running licensegate can read:
 *
 * - `DATA_DIR/redis.secret` holds it, mode 0600, made once (256 random bits) and kept across
 *   restarts, so that `licensegate admin …` (same DATA_DIR) finds it without any flag;
 * - DATA_DIR is created 0700 when licensegate creates it (an existing one is left as it is:
 *   it belongs to the operator);
 * - redis-server gets it from `DATA_DIR/redis.conf` (0600, rewritten at each start), never on
 *   its command line, which every local user can read with `ps`.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newRedisPassword } from './secrets.ts';

export const REDIS_SECRET_FILE = 'redis.secret';
export const REDIS_CONF_FILE = 'redis.conf';

export function redisSecretFile(dataDir: string): string {
  return join(dataDir, REDIS_SECRET_FILE);
}

/** Creates DATA_DIR (0700) if it is missing. */
export function ensurePrivateDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** The stored password, or undefined when there is none (an older version's DATA_DIR). */
export function readRedisSecret(dataDir: string): string | undefined {
  const file = redisSecretFile(dataDir);
  if (!existsSync(file)) return undefined;
  const secret = readFileSync(file, 'utf8').trim();
  return secret === '' ? undefined : secret;
}

/**
 * The stored password, made now if missing. Created with O_EXCL and mode 0600 (two processes
 * starting at once agree on one); a file someone made readable to others is set back to 0600.
 */
export function ensureRedisSecret(dataDir: string): string {
  ensurePrivateDir(dataDir);
  const file = redisSecretFile(dataDir);
  try {
    writeFileSync(file, `${newRedisPassword()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const secret = readRedisSecret(dataDir);
  if (!secret) throw new Error(`${file} is empty: delete it and start again (a new password is made)`);
  return secret;
}

/**
 * Writes the config file redis-server reads first (mode 0600): the password as `requirepass`
 * and `masterauth` (a replica set up from this instance would need it). Returns its path.
 */
export function writeRedisConf(dataDir: string, password: string): string {
  const file = join(dataDir, REDIS_CONF_FILE);
  writeFileSync(file, `# written by licensegate at each start of the embedded Redis; holds its password (see ${REDIS_SECRET_FILE})\nrequirepass ${password}\nmasterauth ${password}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // an existing file keeps its mode on write
  return file;
}

/** The URL with the password in it (for connecting; never logged: see describeTarget). */
export function urlWithPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const u = new URL(url);
  u.password = password;
  return u.toString().replace(/\/$/, '');
}
