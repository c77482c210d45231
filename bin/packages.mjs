// The project's npm packages, for bin/prepare.mjs and every entry point (bin/licensegate.mjs,
// bin/agent-sim.mjs). Plain JavaScript with no dependencies: it runs before anything is installed.
//
// prepare (npm's pre-scripts) installs when node_modules is missing or older than
// package-lock.json. An entry point only when its packages are MISSING: a stale-looking
// node_modules still runs (a git worktree sharing another checkout's node_modules has a newer
// package-lock.json, and `npm ci` there would wipe the shared packages), so `npx licensegate …`
// on a fresh clone works without `npm start` first (issue 12).
//
// LICENSEGATE_NO_INSTALL=1: never install; say the exact command and exit 1 instead (CI images
// that install in a separate step; the tests, which must never install anything).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const NO_INSTALL_ENV = 'LICENSEGATE_NO_INSTALL';

const markerOf = (root) => join(root, 'node_modules', '.package-lock.json');

/** node_modules has never been installed here. */
export function packagesMissing(root) {
  return !existsSync(markerOf(root));
}

/** node_modules is older than package-lock.json (a pull changed the dependencies). */
export function packagesStale(root) {
  return !packagesMissing(root) && statSync(markerOf(root)).mtimeMs < statSync(join(root, 'package-lock.json')).mtimeMs;
}

/**
 * `npm ci` in root, or — with LICENSEGATE_NO_INSTALL set — the command to run, and exit 1.
 * `say` prints one line (prefixed by the caller's name). Exits on failure.
 */
export function installPackages(root, say, why) {
  if (process.env[NO_INSTALL_ENV]) {
    say(`${why}; run \`npm ci\` in ${root} (or \`npm start\` once), then run this again`);
    process.exit(1);
  }
  say(`${why}: installing them (npm ci)`);
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) {
    say(`npm ci failed (see above); run \`npm ci\` in ${root} yourself, then run this again`);
    process.exit(r.status ?? 1);
  }
}

/** For an entry point: installs (or explains) when the npm packages are missing. */
export function ensurePackagesFor(program, root) {
  if (!packagesMissing(root)) return;
  installPackages(root, (msg) => process.stderr.write(`${program}: ${msg}\n`), 'the npm packages are not installed');
}
