/**
 * Issue 12: on a fresh clone (no node_modules) every entry point says what it needs instead of
 * dying with ERR_MODULE_NOT_FOUND: tsx. Run in a temporary copy of bin/ and package.json without
 * node_modules, with LICENSEGATE_NO_INSTALL=1 so that nothing is ever installed by a test: the
 * entry point must then print the exact command and exit non-zero.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const clone = mkdtempSync(join(tmpdir(), 'lg-fresh-clone-'));
cpSync(join(root, 'bin'), join(clone, 'bin'), { recursive: true });
for (const f of ['package.json', 'package-lock.json']) cpSync(join(root, f), join(clone, f));
afterAll(() => rmSync(clone, { recursive: true, force: true }));

function run(entry: string, args: string[]) {
  return spawnSync(process.execPath, [join(clone, 'bin', entry), ...args], {
    cwd: clone,
    env: { ...process.env, LICENSEGATE_NO_INSTALL: '1', npm_config_offline: 'true' },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('entry points on a fresh clone', () => {
  it.each([
    ['licensegate.mjs', ['keys', 'keypair', '--out', 'vendor']],
    ['agent-sim.mjs', ['--help']],
  ])('R3: %s without node_modules names the install command and exits non-zero, installing nothing', (entry, args) => {
    const r = run(entry, args);
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    expect(r.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
    expect(r.stderr).toContain('npm ci');
    expect(r.stderr).toContain(clone);
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
    expect(existsSync(join(clone, 'node_modules'))).toBe(false);
    expect(existsSync(join(clone, 'vendor'))).toBe(false);
  });

  it('R3: with its packages installed, an entry point runs as before', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin', 'licensegate.mjs'), '--help'], { cwd: root, env: { ...process.env, LICENSEGATE_NO_INSTALL: '1' }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).toContain('licensegate');
    expect(r.stderr).not.toContain('npm ci');
  });
});
