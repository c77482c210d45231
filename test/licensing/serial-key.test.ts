import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LicensegateError, type ErrorCode } from '../../src/errors.ts';
import {
  mintSerialKey,
  normalizeSerialKey,
  parseSerialKeyUnverified,
  serialKeyExpiresAtMs,
  verifySerialKey,
  type SerialKeyPayload,
} from '../../src/licensing/serial-key.ts';
import {
  generateVendorKeyPair,
  loadPrivateKey,
  loadPublicKeys,
  VendorKeyExistsError,
  writeVendorKeyPair,
} from '../../src/licensing/vendor-keys.ts';

const vendor = generateVendorKeyPair();
const vendorPublic = createPublicKey(vendor.publicKeyPem);
const other = generateVendorKeyPair();
const otherPublic = createPublicKey(other.publicKeyPem);

const subscription: SerialKeyPayload = {
  v: 1,
  keyId: 'K-TEST000001',
  edition: 'standard',
  kind: 'subscription',
  licenses: { workstation: 50, linux: 20, 'pam-seat': 5 },
  issuedAt: '2026-01-01T00:00:00Z',
  expiresAt: '2027-01-01T00:00:00Z',
  multiTenant: true,
};
const perpetual: SerialKeyPayload = {
  v: 1,
  keyId: 'K-PERP000001',
  edition: 'enterprise',
  kind: 'perpetual',
  licenses: { 'infrastructure-server': 3 },
  issuedAt: '2026-01-01T00:00:00Z',
  supportUntil: '2028-01-01T00:00:00Z',
  multiTenant: false,
};
const trial: SerialKeyPayload = { ...subscription, keyId: 'K-TRIAL00001', kind: 'trial', expiresAt: '2026-01-31T00:00:00Z', multiTenant: false };

function codeOf(fn: () => unknown): ErrorCode | 'no error' | 'not a LicensegateError' {
  try {
    fn();
    return 'no error';
  } catch (err) {
    return err instanceof LicensegateError ? err.code : 'not a LicensegateError';
  }
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
/** A key whose payload part is arbitrary text, correctly signed by `privateKeyPem`. */
function signRaw(payloadText: string, privateKeyPem = vendor.privateKeyPem): string {
  const signed = `LG1.${b64(payloadText)}`;
  return `${signed}.${sign(null, Buffer.from(signed, 'ascii'), privateKeyPem).toString('base64url')}`;
}
const parts = (key: string) => key.split('.') as [string, string, string];
const verifyCode = (key: string, keys: KeyObject[] = [vendorPublic]) => codeOf(() => verifySerialKey(key, keys));

describe('serial key format and signature', () => {
  it('S1: a minted key is one copy-pastable line LG1.<payload>.<signature> and verifies to its payload', () => {
    const key = mintSerialKey(subscription, vendor.privateKeyPem);
    expect(key).toMatch(/^LG1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$/);
    expect(verifySerialKey(key, [vendorPublic])).toEqual(subscription);
    expect(verifySerialKey(mintSerialKey(perpetual, vendor.privateKeyPem), [vendorPublic])).toEqual(perpetual);
    expect(verifySerialKey(mintSerialKey(trial, vendor.privateKeyPem), [vendorPublic])).toEqual(trial);
  });

  it('S1: the payload carries key id, edition, kind, licenses, dates and multi-tenant', () => {
    const key = mintSerialKey(subscription, loadPrivateKeyObject());
    const json = JSON.parse(Buffer.from(parts(key)[1], 'base64url').toString('utf8'));
    expect(json).toEqual(subscription);
    expect(Object.keys(json)).toEqual(['v', 'keyId', 'edition', 'kind', 'licenses', 'issuedAt', 'expiresAt', 'multiTenant']);
  });

  it('S1: any of several configured public keys verifies (key rotation); the order does not matter', () => {
    const key = mintSerialKey(subscription, vendor.privateKeyPem);
    expect(verifySerialKey(key, [otherPublic, vendorPublic]).keyId).toBe(subscription.keyId);
    expect(verifySerialKey(key, [vendorPublic, otherPublic]).keyId).toBe(subscription.keyId);
  });

  it('S1: a key pasted with line breaks, indentation and surrounding whitespace still verifies', () => {
    const key = mintSerialKey(subscription, vendor.privateKeyPem);
    const wrapped = `\n   ${key.match(/.{1,40}/g)!.join('\r\n    ')}  \n\t`;
    expect(verifySerialKey(wrapped, [vendorPublic])).toEqual(subscription);
    expect(normalizeSerialKey(wrapped)).toBe(key);
  });

  it('S1: a tampered key is refused with SERIAL_KEY_INVALID (one character of the payload flipped)', () => {
    const key = mintSerialKey(subscription, vendor.privateKeyPem);
    const [prefix, payload, signature] = parts(key);
    for (const at of [0, 10, Math.floor(payload.length / 2), payload.length - 2]) {
      const flipped = payload.slice(0, at) + (payload[at] === 'A' ? 'B' : 'A') + payload.slice(at + 1);
      expect(verifyCode(`${prefix}.${flipped}.${signature}`)).toBe('SERIAL_KEY_INVALID');
    }
  });

  it('S1: a tampered key is refused with SERIAL_KEY_INVALID (a count raised and re-encoded without re-signing)', () => {
    const key = mintSerialKey(subscription, vendor.privateKeyPem);
    const [prefix, , signature] = parts(key);
    const raised = b64(JSON.stringify({ ...subscription, licenses: { ...subscription.licenses, workstation: 5000 } }));
    expect(verifyCode(`${prefix}.${raised}.${signature}`)).toBe('SERIAL_KEY_INVALID');
    const extended = b64(JSON.stringify({ ...subscription, expiresAt: '2099-01-01T00:00:00Z' }));
    expect(verifyCode(`${prefix}.${extended}.${signature}`)).toBe('SERIAL_KEY_INVALID');
  });

  it('S1: a tampered signature is refused with SERIAL_KEY_INVALID', () => {
    const key = mintSerialKey(subscription, vendor.privateKeyPem);
    const [prefix, payload, signature] = parts(key);
    for (const at of [0, 5, 40, 84]) {
      const flipped = signature.slice(0, at) + (signature[at] === 'A' ? 'B' : 'A') + signature.slice(at + 1);
      expect(verifyCode(`${prefix}.${payload}.${flipped}`)).toBe('SERIAL_KEY_INVALID');
    }
  });

  it('S1: a truncated key is refused with SERIAL_KEY_INVALID', () => {
    const key = mintSerialKey(subscription, vendor.privateKeyPem);
    for (const cut of [1, 2, 3, 10, 86, 87, 88, key.length - 5, key.length - 4]) {
      expect(verifyCode(key.slice(0, key.length - cut)), `cut ${cut}`).toBe('SERIAL_KEY_INVALID');
    }
    expect(verifyCode(key.slice(1))).toBe('SERIAL_KEY_INVALID');
  });

  it('S1: a foreign-signed key (another key pair) is refused with SERIAL_KEY_INVALID', () => {
    const foreign = mintSerialKey(subscription, other.privateKeyPem);
    expect(verifyCode(foreign, [vendorPublic])).toBe('SERIAL_KEY_INVALID');
    // The foreign signature grafted onto our payload is no better.
    const ours = mintSerialKey(subscription, vendor.privateKeyPem);
    expect(verifyCode(`${parts(ours)[0]}.${parts(ours)[1]}.${parts(foreign)[2]}`)).toBe('SERIAL_KEY_INVALID');
  });

  it('S1: an unsigned key is refused with SERIAL_KEY_INVALID (no signature part, empty signature)', () => {
    const key = mintSerialKey(subscription, vendor.privateKeyPem);
    const [prefix, payload] = parts(key);
    expect(verifyCode(`${prefix}.${payload}`)).toBe('SERIAL_KEY_INVALID');
    expect(verifyCode(`${prefix}.${payload}.`)).toBe('SERIAL_KEY_INVALID');
    expect(verifyCode(`${prefix}.${payload}.${'A'.repeat(86)}`)).toBe('SERIAL_KEY_INVALID');
  });

  it('S1: a wrong prefix or shape is refused with SERIAL_KEY_INVALID', () => {
    const key = mintSerialKey(subscription, vendor.privateKeyPem);
    const [, payload, signature] = parts(key);
    for (const bad of [
      `LG2.${payload}.${signature}`,
      `lg1.${payload}.${signature}`,
      `${payload}.${signature}`,
      `LG1..${signature}`,
      `LG1.${payload}.${signature}.${signature}`,
      `LG1.${payload}..${signature}`,
      'LG1',
      'LG1.',
      '',
      '   \n ',
      `LG1.${payload}.${signature}`.repeat(20),
    ]) {
      expect(verifyCode(bad), bad.slice(0, 30)).toBe('SERIAL_KEY_INVALID');
    }
  });

  it('S1: bad base64 is refused with SERIAL_KEY_INVALID', () => {
    const key = mintSerialKey(subscription, vendor.privateKeyPem);
    const [prefix, payload, signature] = parts(key);
    expect(verifyCode(`${prefix}.${payload.slice(0, 8)}+/=${payload.slice(8)}.${signature}`)).toBe('SERIAL_KEY_INVALID');
    expect(verifyCode(`${prefix}.${payload}.${signature.slice(0, 20)}!${signature.slice(21)}`)).toBe('SERIAL_KEY_INVALID');
    expect(verifyCode(`${prefix}.${payload}=.${signature}`)).toBe('SERIAL_KEY_INVALID');
  });

  it('S1: a correctly signed payload that is not JSON, or not UTF-8, is refused with SERIAL_KEY_INVALID', () => {
    expect(verifyCode(signRaw('not json'))).toBe('SERIAL_KEY_INVALID');
    expect(verifyCode(signRaw('{"v":1,'))).toBe('SERIAL_KEY_INVALID');
    expect(verifyCode(signRaw(''))).toBe('SERIAL_KEY_INVALID');
    const latin1 = Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url');
    const signed = `LG1.${latin1}`;
    expect(verifyCode(`${signed}.${sign(null, Buffer.from(signed), vendor.privateKeyPem).toString('base64url')}`)).toBe('SERIAL_KEY_INVALID');
    // Sanity: the helper does produce valid keys.
    expect(verifySerialKey(signRaw(JSON.stringify(subscription)), [vendorPublic])).toEqual(subscription);
  });

  it('S1: verifying needs configured public keys (VENDOR_KEYS_MISSING otherwise)', () => {
    expect(verifyCode(mintSerialKey(subscription, vendor.privateKeyPem), [])).toBe('VENDOR_KEYS_MISSING');
  });

  it('S1: parseSerialKeyUnverified shows a well-formed key without its signature checked', () => {
    const foreign = mintSerialKey(subscription, other.privateKeyPem);
    expect(parseSerialKeyUnverified(foreign)).toEqual(subscription);
    expect(codeOf(() => parseSerialKeyUnverified('LG1.abc'))).toBe('SERIAL_KEY_INVALID');
    expect(codeOf(() => parseSerialKeyUnverified(signRaw('{}')))).toBe('SERIAL_KEY_INVALID');
  });
});

describe('serial key payload rules', () => {
  const mintCode = (p: unknown) => codeOf(() => mintSerialKey(p as SerialKeyPayload, vendor.privateKeyPem));
  /** The same rules hold for a payload the vendor signed: verify refuses it too. */
  const signedCode = (p: unknown) => verifyCode(signRaw(JSON.stringify(p)));

  it('S1 S4: subscription and trial keys must expire, after their issue date', () => {
    for (const base of [subscription, trial]) {
      const { expiresAt: _drop, ...noExpiry } = base;
      void _drop;
      for (const bad of [noExpiry, { ...base, expiresAt: base.issuedAt }, { ...base, expiresAt: '2025-12-31T23:59:59Z' }]) {
        expect(mintCode(bad)).toBe('SERIAL_KEY_INVALID');
        expect(signedCode(bad)).toBe('SERIAL_KEY_INVALID');
      }
      expect(serialKeyExpiresAtMs(verifySerialKey(mintSerialKey(base, vendor.privateKeyPem), [vendorPublic]))).toBe(Date.parse(base.expiresAt!));
    }
  });

  it('S1 S4: a perpetual key never expires; support-until is optional, after issue, and perpetual-only', () => {
    expect(serialKeyExpiresAtMs(perpetual)).toBeNull();
    const { supportUntil: _drop, ...noSupport } = perpetual;
    void _drop;
    expect(verifySerialKey(mintSerialKey(noSupport, vendor.privateKeyPem), [vendorPublic])).toEqual(noSupport);
    for (const bad of [
      { ...perpetual, expiresAt: '2030-01-01T00:00:00Z' },
      { ...perpetual, supportUntil: '2025-01-01T00:00:00Z' },
      { ...subscription, supportUntil: '2028-01-01T00:00:00Z' },
      { ...trial, supportUntil: '2028-01-01T00:00:00Z' },
    ]) {
      expect(mintCode(bad)).toBe('SERIAL_KEY_INVALID');
      expect(signedCode(bad)).toBe('SERIAL_KEY_INVALID');
    }
  });

  it('S1: license counts are known types, non-negative integers up to 1,000,000, at least one > 0', () => {
    const withLicenses = (licenses: unknown) => ({ ...subscription, licenses });
    expect(mintCode(withLicenses({ linux: 1_000_000, workstation: 0 }))).toBe('no error');
    for (const bad of [
      {},
      { linux: 0 },
      { linux: 0, workstation: 0 },
      { linux: -1, workstation: 5 },
      { linux: 1.5 },
      { linux: 1_000_001 },
      { linux: '5' },
      { linux: null },
      { mainframe: 5 },
      { Linux: 5 },
    ]) {
      expect(mintCode(withLicenses(bad)), JSON.stringify(bad)).toBe('SERIAL_KEY_INVALID');
      expect(signedCode(withLicenses(bad)), JSON.stringify(bad)).toBe('SERIAL_KEY_INVALID');
    }
    expect(verifyCode(signRaw(JSON.stringify(subscription).replace('"licenses":{', '"licenses":{"__proto__":9,')))).toBe('SERIAL_KEY_INVALID');
  });

  it('S1: key id, edition, kind, version, dates and unknown fields are checked', () => {
    for (const bad of [
      { ...subscription, keyId: 'ab' },
      { ...subscription, keyId: '-K1234' },
      { ...subscription, keyId: 'K 1234' },
      { ...subscription, keyId: `K${'x'.repeat(64)}` },
      { ...subscription, edition: '' },
      { ...subscription, edition: 'x'.repeat(65) },
      { ...subscription, edition: 'line\nbreak' },
      { ...subscription, kind: 'lifetime' },
      { ...subscription, v: 2 },
      { ...subscription, multiTenant: 'yes' },
      { ...subscription, issuedAt: '2026-01-01' },
      { ...subscription, issuedAt: 'yesterday' },
      { ...subscription, expiresAt: '2027-02-30T00:00:00Z' },
      { ...subscription, expiresAt: '2027-01-01T00:00:00+02:00' },
      { ...subscription, unlimited: true },
    ]) {
      expect(mintCode(bad), JSON.stringify(bad)).toBe('SERIAL_KEY_INVALID');
      expect(signedCode(bad), JSON.stringify(bad)).toBe('SERIAL_KEY_INVALID');
    }
    for (const keyId of ['K-ABCDEFGHIJ', 'abc', 'acme.2026_q1-renewal', `K${'x'.repeat(63)}`]) {
      expect(mintCode({ ...subscription, keyId }), keyId).toBe('no error');
    }
  });

  it('S1: minting needs an Ed25519 private key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => mintSerialKey(subscription, rsa.privateKey)).toThrow(TypeError);
    expect(() => mintSerialKey(subscription, vendorPublic)).toThrow(TypeError);
  });
});

describe('vendor key files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lg-vendor-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('S1: writeVendorKeyPair writes vendor.key 0600 and vendor.pub 0644, and never replaces vendor.key unless forced', () => {
    const out = join(dir, 'pair', 'nested');
    const written = writeVendorKeyPair(out);
    expect(statSync(written.privateKeyPath).mode & 0o777).toBe(0o600);
    expect(statSync(written.publicKeyPath).mode & 0o777).toBe(0o644);
    const before = readFileSync(written.privateKeyPath, 'utf8');
    expect(() => writeVendorKeyPair(out)).toThrow(VendorKeyExistsError);
    expect(readFileSync(written.privateKeyPath, 'utf8')).toBe(before);
    const key = mintSerialKey(subscription, loadPrivateKey(written.privateKeyPath));
    expect(verifySerialKey(key, loadPublicKeys(written.publicKeyPath))).toEqual(subscription);

    writeVendorKeyPair(out, { force: true });
    expect(readFileSync(written.privateKeyPath, 'utf8')).not.toBe(before);
    expect(statSync(written.privateKeyPath).mode & 0o777).toBe(0o600);
    expect(verifyCode(key, loadPublicKeys(written.publicKeyPath))).toBe('SERIAL_KEY_INVALID');
  });

  it('S1: VENDOR_PUBLIC_KEYS lists files and inline PEM, comma-separated', () => {
    const file = join(dir, 'other.pub');
    writeFileSync(file, other.publicKeyPem);
    const keys = loadPublicKeys(` ${vendor.publicKeyPem} , ${file},`);
    expect(keys).toHaveLength(2);
    expect(verifySerialKey(mintSerialKey(subscription, other.privateKeyPem), keys).keyId).toBe(subscription.keyId);
    expect(verifySerialKey(mintSerialKey(subscription, vendor.privateKeyPem), keys).keyId).toBe(subscription.keyId);
    // PEM flattened into one line, or with literal \n escapes, as environment files do.
    expect(loadPublicKeys(vendor.publicKeyPem.replace(/\n/g, ' '))).toHaveLength(1);
    expect(loadPublicKeys(vendor.publicKeyPem.replace(/\n/g, '\\n'))).toHaveLength(1);
    expect(loadPublicKeys('')).toEqual([]);
  });

  it('R3: a VENDOR_PUBLIC_KEYS entry that is not an Ed25519 public key is an error naming the entry', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const rsaFile = join(dir, 'rsa.pub');
    writeFileSync(rsaFile, rsa.publicKey);
    const privFile = join(dir, 'leaked.key');
    writeFileSync(privFile, vendor.privateKeyPem);
    const junkFile = join(dir, 'junk.pub');
    writeFileSync(junkFile, 'hello');
    const missing = join(dir, 'missing.pub');
    for (const [spec, named] of [
      [rsaFile, rsaFile],
      [privFile, privFile],
      [junkFile, junkFile],
      [missing, missing],
      [`${vendor.publicKeyPem},${missing}`, 'entry 2'],
      [vendor.privateKeyPem, 'entry 1'],
      ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', 'entry 1'],
    ] as const) {
      expect(() => loadPublicKeys(spec)).toThrow(named);
    }
    expect(() => loadPrivateKey(rsaFile)).toThrow(rsaFile);
    expect(() => loadPrivateKey(join(dir, 'other.pub'))).toThrow();
  });
});

function loadPrivateKeyObject(): KeyObject {
  const dir = mkdtempSync(join(tmpdir(), 'lg-vendor-key-'));
  try {
    const file = join(dir, 'vendor.key');
    writeFileSync(file, vendor.privateKeyPem, { mode: 0o600 });
    return loadPrivateKey(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
