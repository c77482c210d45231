import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LicensegateError } from '../../src/errors.ts';
import { serialKeyExpiresAtMs, verifySerialKey } from '../../src/licensing/serial-key.ts';
import { loadPublicKeys } from '../../src/licensing/vendor-keys.ts';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'lg-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `licensegate keys ...` as a real process. */
function keys(args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin/licensegate.mjs'), 'keys', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

const vendorDir = join(dir, 'vendor');
const privateKey = join(vendorDir, 'vendor.key');
const publicKey = join(vendorDir, 'vendor.pub');

beforeAll(async () => {
  const r = await keys(['keypair', '--out', vendorDir]);
  expect(r.status).toBe(0);
});

describe('licensegate keys', () => {
  it('S1: keypair writes vendor.key (0600) and vendor.pub (0644), prints both paths, and will not replace vendor.key without --force', async () => {
    const out = join(dir, 'pair');
    const r = await keys(['keypair', '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([join(out, 'vendor.key'), join(out, 'vendor.pub')]);
    expect(statSync(join(out, 'vendor.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, 'vendor.pub')).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(out, 'vendor.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(readFileSync(join(out, 'vendor.pub'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);

    const before = readFileSync(join(out, 'vendor.key'), 'utf8');
    const again = await keys(['keypair', '--out', out]);
    expect(again.status).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/^licensegate keys: [^\n]+\n$/);
    expect(readFileSync(join(out, 'vendor.key'), 'utf8')).toBe(before);

    expect((await keys(['keypair', '--out', out, '--force'])).status).toBe(0);
    expect(readFileSync(join(out, 'vendor.key'), 'utf8')).not.toBe(before);
    expect(statSync(join(out, 'vendor.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, 'vendor.pub')).mode & 0o777).toBe(0o644);
  });

  it('S1: mint prints the key alone on stdout, and it verifies with the written public key', async () => {
    const r = await keys([
      'mint',
      '--private-key', privateKey,
      '--kind', 'subscription',
      '--expires', '2027-01-01T00:00:00Z',
      '--issued', '2026-01-01T00:00:00Z',
      '--licenses', 'workstation=50,linux=20,pam-seat=5',
      '--multi-tenant',
      '--key-id', 'ACME-2026',
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^LG1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    expect(verifySerialKey(r.stdout, loadPublicKeys(publicKey))).toEqual({
      v: 1,
      keyId: 'ACME-2026',
      edition: 'standard',
      kind: 'subscription',
      licenses: { workstation: 50, linux: 20, 'pam-seat': 5 },
      issuedAt: '2026-01-01T00:00:00.000Z',
      expiresAt: '2027-01-01T00:00:00.000Z',
      multiTenant: true,
    });
  });

  it('S1: mint defaults (issued now, edition standard, random K- key id) and relative expiry (+30d, +2h, +90s)', async () => {
    const seen = new Set<string>();
    for (const [expires, ms] of [['+30d', 30 * 86_400_000], ['+2h', 7_200_000], ['+90s', 90_000]] as const) {
      const before = Date.now();
      const r = await keys(['mint', '--private-key', privateKey, '--kind', 'trial', '--expires', expires, '--licenses', 'linux=2']);
      expect(r.status).toBe(0);
      const payload = verifySerialKey(r.stdout, loadPublicKeys(publicKey));
      expect(payload.keyId).toMatch(/^K-[A-Z2-7]{10}$/);
      seen.add(payload.keyId);
      expect(payload.edition).toBe('standard');
      expect(payload.multiTenant).toBe(false);
      const issued = Date.parse(payload.issuedAt);
      expect(issued).toBeGreaterThanOrEqual(before - 1000);
      expect(issued).toBeLessThanOrEqual(Date.now());
      expect(serialKeyExpiresAtMs(payload)).toBe(issued + ms);
    }
    expect(seen.size).toBe(3);
  });

  it('S1: mint a perpetual key with support-until and an edition', async () => {
    const r = await keys(['mint', '--private-key', privateKey, '--kind', 'perpetual', '--support-until', '2028-06-30', '--edition', 'enterprise', '--licenses', 'infrastructure-server=3']);
    expect(r.status).toBe(0);
    const payload = verifySerialKey(r.stdout, loadPublicKeys(publicKey));
    expect(payload).toMatchObject({ kind: 'perpetual', edition: 'enterprise', supportUntil: '2028-06-30T00:00:00.000Z', licenses: { 'infrastructure-server': 3 } });
    expect(payload.expiresAt).toBeUndefined();
  });

  it('S1: inspect prints the payload, verified with --public-key and marked unverified without', async () => {
    const key = (await keys(['mint', '--private-key', privateKey, '--kind', 'subscription', '--expires', '+30d', '--licenses', 'workstation=1'])).stdout.trim();
    const verified = await keys(['inspect', key, '--public-key', publicKey]);
    expect(verified.status).toBe(0);
    const shown = JSON.parse(verified.stdout);
    expect(shown.verified).toBe(true);
    expect(shown.payload.licenses).toEqual({ workstation: 1 });

    const unverified = await keys(['inspect', key]);
    expect(unverified.status).toBe(0);
    expect(JSON.parse(unverified.stdout)).toEqual({ ...shown, verified: false });

    // A key pasted from an e-mail, wrapped over lines, on stdin.
    const wrapped = await keys(['inspect', '-', '--public-key', publicKey], `${key.match(/.{1,60}/g)!.join('\n')}\n`);
    expect(wrapped.status).toBe(0);
    expect(JSON.parse(wrapped.stdout)).toEqual(shown);
  });

  it('S1: inspect refuses a tampered or foreign-signed key when verifying (exit 1)', async () => {
    const key = (await keys(['mint', '--private-key', privateKey, '--kind', 'subscription', '--expires', '+30d', '--licenses', 'workstation=1'])).stdout.trim();
    const [prefix, payload, signature] = key.split('.') as [string, string, string];
    const raised = Buffer.from(Buffer.from(payload, 'base64url').toString('utf8').replace('"workstation":1', '"workstation":9')).toString('base64url');
    const tampered = await keys(['inspect', `${prefix}.${raised}.${signature}`, '--public-key', publicKey]);
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toBe('');
    expect(tampered.stderr).toMatch(/^licensegate keys: .*\n$/);

    const foreignDir = join(dir, 'foreign');
    expect((await keys(['keypair', '--out', foreignDir])).status).toBe(0);
    const foreign = (await keys(['mint', '--private-key', join(foreignDir, 'vendor.key'), '--kind', 'trial', '--expires', '+1d', '--licenses', 'linux=1'])).stdout;
    expect((await keys(['inspect', foreign.trim(), '--public-key', publicKey])).status).toBe(1);
    expect((await keys(['inspect', foreign.trim(), '--public-key', publicKey, '--public-key', join(foreignDir, 'vendor.pub')])).status).toBe(0);
    expect(() => verifySerialKey(foreign, loadPublicKeys(publicKey))).toThrow(LicensegateError);
  });

  describe('S1 R3: bad arguments exit 2 with one line on stderr and nothing on stdout', () => {
    const mint = (...more: string[]) => ['mint', '--private-key', privateKey, ...more];
    const trial = (...more: string[]) => mint('--kind', 'trial', '--expires', '+1d', ...more);
    const cases: [string, string[]][] = [
      ['no command', []],
      ['unknown command', ['frobnicate']],
      ['keypair without --out', ['keypair']],
      ['unknown flag', ['keypair', '--out', join(dir, 'x'), '--bogus']],
      ['mint without --private-key', ['mint', '--kind', 'trial', '--expires', '+1d', '--licenses', 'linux=1']],
      ['mint without --kind', mint('--expires', '+1d', '--licenses', 'linux=1')],
      ['unknown kind', mint('--kind', 'lifetime', '--expires', '+1d', '--licenses', 'linux=1')],
      ['trial without --expires', mint('--kind', 'trial', '--licenses', 'linux=1')],
      ['expiry that is not a date', mint('--kind', 'subscription', '--expires', 'next tuesday', '--licenses', 'linux=1')],
      ['expiry on a day that does not exist', mint('--kind', 'subscription', '--expires', '2027-02-30', '--licenses', 'linux=1')],
      ['expiry time without a zone', mint('--kind', 'subscription', '--expires', '2027-01-01T00:00:00', '--licenses', 'linux=1')],
      ['relative expiry of zero', mint('--kind', 'subscription', '--expires', '+0d', '--licenses', 'linux=1')],
      ['relative expiry in an unknown unit', mint('--kind', 'subscription', '--expires', '+3y', '--licenses', 'linux=1')],
      ['expiry before issue', mint('--kind', 'subscription', '--expires', '2020-01-01', '--licenses', 'linux=1')],
      ['perpetual with --expires', mint('--kind', 'perpetual', '--expires', '+1d', '--licenses', 'linux=1')],
      ['trial with --support-until', trial('--support-until', '+2d', '--licenses', 'linux=1')],
      ['no --licenses', trial()],
      ['unknown license type', trial('--licenses', 'mainframe=1')],
      ['license without a count', trial('--licenses', 'linux')],
      ['license type twice', trial('--licenses', 'linux=1,linux=2')],
      ['no license > 0', trial('--licenses', 'linux=0')],
      ['count above 1,000,000', trial('--licenses', 'linux=1000001')],
      ['negative count', trial('--licenses', 'linux=-1')],
      ['bad key id', trial('--licenses', 'linux=1', '--key-id', 'no spaces')],
      ['bad issue date', trial('--licenses', 'linux=1', '--issued', 'now')],
      ['stray positional', trial('--licenses', 'linux=1', 'extra')],
      ['inspect without a key', ['inspect']],
      ['inspect with two keys', ['inspect', 'LG1.a.b', 'LG1.c.d']],
      ['inspect with an unknown flag', ['inspect', 'LG1.a.b', '--public']],
    ];
    for (const [name, args] of cases) {
      it.concurrent(`S1 R3: ${name}`, async () => {
        const r = await keys(args);
        expect(r.status).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(/^licensegate keys: [^\n]+\n$/);
      });
    }
  });

  it('S1: a missing or wrong key file fails with exit 1 and writes nothing', async () => {
    const base = ['--kind', 'trial', '--expires', '+1d', '--licenses', 'linux=1'];
    for (const file of [join(dir, 'missing.key'), publicKey]) {
      const r = await keys(['mint', '--private-key', file, ...base]);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^licensegate keys: [^\n]+\n$/);
    }
    expect((await keys(['inspect', 'LG1.a.b', '--public-key', privateKey])).status).toBe(1);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it('S1: keys --help exits 0', async () => {
    const r = await keys(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/keypair/);
  });
});
