#!/usr/bin/env node
// Runs before `npm start` and `npm test` (npm's pre-scripts): installs what the project needs.
//  - npm packages: `npm ci` when node_modules is missing or older than package-lock.json.
//  - redis-server (Debian's package) when missing: `apt-get install redis-server` when running
//    as root with apt-get available and LICENSEGATE_NO_APT unset; otherwise a clear message.
//    `npm start` with REDIS_URL set does not need it.
// Plain JavaScript with no dependencies: it runs before anything is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lifecycle = process.env.npm_lifecycle_event ?? '';
const say = (msg) => process.stderr.write(`prepare: ${msg}\n`);

function ensurePackages() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  say('installing npm packages (npm ci)');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    say('npm ci failed; see the output above');
    process.exit(r.status ?? 1);
  }
}

const REDIS_PATHS = ['/usr/bin/redis-server', '/usr/sbin/redis-server', '/usr/local/bin/redis-server'];
function haveRedis() {
  if (REDIS_PATHS.some((p) => existsSync(p))) return true;
  return spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0;
}

function ensureRedis() {
  const needed = lifecycle !== 'prestart' || !process.env.REDIS_URL;
  if (!needed || haveRedis()) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt || process.env.LICENSEGATE_NO_APT) {
    say('redis-server is not installed. Install Debian\'s package (`sudo apt-get install redis-server`) or set REDIS_URL to an existing Redis, then run this again.');
    process.exit(1);
  }
  say('installing redis-server (apt-get)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'redis-server'], { stdio: 'inherit', env });
  // The package starts a system-wide server on 6379; licensegate runs its own.
  spawnSync('sh', ['-c', 'service redis-server stop || systemctl stop redis-server'], { stdio: 'ignore' });
  if (!haveRedis()) {
    say('redis-server still not found after apt-get install');
    process.exit(1);
  }
}

ensurePackages();
ensureRedis();
