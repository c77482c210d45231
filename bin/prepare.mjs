#!/usr/bin/env node
// Runs before `npm start` and `npm test` (npm's pre-scripts): installs what the project needs.
//  - npm packages: `npm ci` when node_modules is missing or older than package-lock.json.
//  - redis-server (Debian's package) when missing: `apt-get install redis-server` when running
//    as root with apt-get available and LICENSEGATE_NO_APT unset; otherwise a clear message.
//    `npm start` with REDIS_URL set does not need it.
//  - redis-sentinel (Debian's package) for everything but `npm start` (tests, bench, chaos start
//    real Sentinel setups), installed the same way; `npm start` needs only redis-server.
//  - haproxy (Debian's package) for everything but `npm start`: the tests and the bench put real
//    HAProxy in front of several gateways (chaos/lib/haproxy.ts, deploy/haproxy.cfg). Installed the
//    same way; the package's own system service is stopped and disabled (we run our own).
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

function canApt() {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  return isRoot && hasApt && !process.env.LICENSEGATE_NO_APT;
}

let aptUpdated = false;
// Installs a Debian package and stops the system-wide service it starts (licensegate and its
// tests run their own servers; a system redis-server on 6379 or sentinel on 26379 is in the way).
function aptInstall(pkg, service, { disable = false } = {}) {
  say(`installing ${pkg} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  aptUpdated = true;
  execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'inherit', env });
  spawnSync('sh', ['-c', `service ${service} stop || systemctl stop ${service}`], { stdio: 'ignore' });
  if (disable) spawnSync('sh', ['-c', `systemctl disable ${service} || update-rc.d ${service} disable`], { stdio: 'ignore' });
}

function ensureRedis() {
  // `npm start` needs no local redis-server when it is pointed at one, a Sentinel set-up or a Cluster.
  const external = ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'].some((v) => process.env[v]);
  const needed = lifecycle !== 'prestart' || !external;
  if (!needed || haveRedis()) return;
  if (!canApt()) {
    say('redis-server is not installed. Install Debian\'s package (`sudo apt-get install redis-server`) or set REDIS_URL to an existing Redis, then run this again.');
    process.exit(1);
  }
  aptInstall('redis-server', 'redis-server');
  if (!haveRedis()) {
    say('redis-server still not found after apt-get install');
    process.exit(1);
  }
}

// The path chaos/lib/redis-sentinel.ts looks for (Debian's package, not `redis-server --sentinel`).
const SENTINEL_PATHS = ['/usr/bin/redis-sentinel', '/usr/local/bin/redis-sentinel'];
const haveSentinel = () => SENTINEL_PATHS.some((p) => existsSync(p));

function ensureSentinel() {
  if (lifecycle === 'prestart' || haveSentinel()) return;
  if (!canApt()) {
    say('redis-sentinel is not installed. Install Debian\'s redis-sentinel package (`sudo apt-get install redis-sentinel`), then run this again.');
    process.exit(1);
  }
  aptInstall('redis-sentinel', 'redis-sentinel');
  if (!haveSentinel()) {
    say('redis-sentinel still not found after apt-get install redis-sentinel');
    process.exit(1);
  }
}

// The path chaos/lib/haproxy.ts looks for (Debian's package).
const HAPROXY_PATHS = ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy'];
const haveHaproxy = () => HAPROXY_PATHS.some((p) => existsSync(p));

function ensureHaproxy() {
  if (lifecycle === 'prestart' || haveHaproxy()) return;
  if (!canApt()) {
    say('haproxy is not installed. Install Debian\'s haproxy package (`sudo apt-get install haproxy`, then `sudo systemctl disable --now haproxy`), then run this again.');
    process.exit(1);
  }
  aptInstall('haproxy', 'haproxy', { disable: true });
  if (!haveHaproxy()) {
    say('haproxy still not found after apt-get install haproxy');
    process.exit(1);
  }
}

ensurePackages();
ensureRedis();
ensureSentinel();
ensureHaproxy();
