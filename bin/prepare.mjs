#!/usr/bin/env node
// Runs before `npm start` and `npm test` (npm's pre-scripts): installs what the project needs.
//  - npm packages: `npm ci` when node_modules is missing or older than package-lock.json
//    (./packages.mjs; LICENSEGATE_NO_INSTALL=1: say so and exit 1 instead).
//  - redis-server (Debian's package) when missing: `apt-get install redis-server` when running
//    as root with apt-get available and LICENSEGATE_NO_APT unset; otherwise a clear message.
//    `npm start` with REDIS_URL set does not need it.
//  - redis-sentinel (Debian's package) for everything but `npm start` (tests, bench, chaos start
//    real Sentinel setups), installed the same way; `npm start` needs only redis-server.
//  - haproxy (Debian's package) for everything but `npm start`: the tests and the bench put real
//    HAProxy in front of several gateways (chaos/lib/haproxy.ts, deploy/haproxy.cfg). Installed the
//    same way; the package's own system service is stopped and disabled (we run our own).
//  - chromium (Debian's package) for the tests only: the web console's browser tests drive it
//    with playwright-core (test/console/harness.ts; /usr/bin/chromium, or CHROMIUM_PATH).
// Plain JavaScript with no dependencies: it runs before anything is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installPackages, packagesMissing, packagesStale } from './packages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lifecycle = process.env.npm_lifecycle_event ?? '';
const say = (msg) => process.stderr.write(`prepare: ${msg}\n`);

// The same install step as every entry point's (./packages.mjs); here also when node_modules
// is older than package-lock.json.
function ensurePackages() {
  if (packagesMissing(root)) installPackages(root, say, 'npm packages are not installed');
  else if (packagesStale(root)) installPackages(root, say, 'npm packages are older than package-lock.json');
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

/**
 * Installs a Debian package a test, chaos or bench run starts as a real process (never for
 * `npm start`), through apt-get when allowed; otherwise says what to install and exits 1.
 * `paths`: where the project's launcher looks for the binary. `disable`: stop the package's own
 * system service (we run our own processes only).
 */
function ensureTool({ pkg, paths, disable = false, manual, testsOnly = false }) {
  const have = () => paths.some((p) => existsSync(p));
  if (lifecycle === 'prestart' || have()) return;
  // testsOnly: `npm test` (and prepare run by hand), not the bench or chaos runs.
  if (testsOnly && lifecycle !== 'pretest' && lifecycle !== '') return;
  if (!canApt()) {
    say(`${pkg} is not installed. Install Debian's ${pkg} package (\`${manual}\`), then run this again.`);
    process.exit(1);
  }
  aptInstall(pkg, pkg, { disable });
  if (!have()) {
    say(`${pkg} still not found after apt-get install ${pkg}`);
    process.exit(1);
  }
}

ensurePackages();
ensureRedis();
// Debian's redis-sentinel (chaos/lib/redis-sentinel.ts; not `redis-server --sentinel`) and
// haproxy (chaos/lib/haproxy.ts), at the paths those launchers look for.
ensureTool({ pkg: 'redis-sentinel', paths: ['/usr/bin/redis-sentinel', '/usr/local/bin/redis-sentinel'], manual: 'sudo apt-get install redis-sentinel' });
ensureTool({ pkg: 'haproxy', paths: ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy'], disable: true, manual: 'sudo apt-get install haproxy`, then `sudo systemctl disable --now haproxy' });
// Debian's chromium for the console's browser tests (test/console/harness.ts).
ensureTool({
  pkg: 'chromium',
  paths: [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].filter(Boolean),
  testsOnly: true,
  manual: 'sudo apt-get install chromium`, or set `CHROMIUM_PATH=/path/to/chromium',
});
