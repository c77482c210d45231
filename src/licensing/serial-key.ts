/**
 * SPEC S1: the vendor-signed serial key.
 *
 * A key is one copy-pastable line:
 *
 *     LG1.<base64url(JSON payload)>.<base64url(Ed25519 signature)>
 *
 * The signature covers the ASCII bytes of `LG1.<payload part>` exactly as they appear in the key,
 * so nothing is re-serialised before verifying. Parsing tolerates whitespace anywhere (keys are
 * pasted from e-mails, wrapped over lines); everything else that is not exactly a key signed by
 * one of the configured vendor public keys is refused with SERIAL_KEY_INVALID.
 *
 * Verifying a key says nothing about time: whether it has expired is the ledger's decision
 * (SERIAL_KEY_EXPIRED), using `serialKeyExpiresAtMs`.
 *
 * Pure: node:crypto and zod only; no I/O.
 */
import { createPrivateKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { LicensegateError } from '../errors.ts';
import { ALL_LICENSE_TYPES, type LicenseTypeName } from './license-types.ts';

export const SERIAL_KEY_PREFIX = 'LG1';
export const SERIAL_KEY_KINDS = ['subscription', 'perpetual', 'trial'] as const;
export type SerialKeyKind = (typeof SERIAL_KEY_KINDS)[number];
/** Largest count of one license type a key may carry. */
export const MAX_SERIAL_KEY_LICENSE_COUNT = 1_000_000;
export const SERIAL_KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;

/** Longest input accepted (whitespace included), and longest key once whitespace is removed. */
const MAX_INPUT_CHARS = 16_384;
const MAX_KEY_CHARS = 4_096;
const ED25519_SIGNATURE_BYTES = 64;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface SerialKeyPayload {
  /** Payload format version. */
  v: 1;
  keyId: string;
  edition: string;
  kind: SerialKeyKind;
  /** Licenses granted per type; at least one count is > 0. */
  licenses: Partial<Record<LicenseTypeName, number>>;
  /** ISO 8601 UTC instant (`…Z`). */
  issuedAt: string;
  /** ISO 8601 UTC instant; present for subscription and trial keys, absent for perpetual ones. */
  expiresAt?: string;
  /** ISO 8601 UTC instant; perpetual keys only, optional. */
  supportUntil?: string;
  /** Whether the key allows multi-tenant mode (SPEC T1). */
  multiTenant: boolean;
}

const instant = z.iso.datetime({ message: 'must be an ISO 8601 UTC date-time such as 2027-01-01T00:00:00Z' });
const count = z.number().int().min(0).max(MAX_SERIAL_KEY_LICENSE_COUNT);

export const serialKeyPayloadSchema = z
  .strictObject({
    v: z.literal(1),
    keyId: z.string().regex(SERIAL_KEY_ID_PATTERN, 'must be 3-64 characters of [A-Za-z0-9._-], starting with a letter or digit'),
    edition: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII'),
    kind: z.enum(SERIAL_KEY_KINDS),
    licenses: z.partialRecord(z.enum(ALL_LICENSE_TYPES), count),
    issuedAt: instant,
    expiresAt: instant.optional(),
    supportUntil: instant.optional(),
    multiTenant: z.boolean(),
  })
  .superRefine((p, ctx) => {
    if (!Object.values(p.licenses).some((n) => n !== undefined && n > 0)) {
      ctx.addIssue({ code: 'custom', path: ['licenses'], message: 'must grant at least one license (a count > 0)' });
    }
    const issued = Date.parse(p.issuedAt);
    if (p.kind === 'perpetual') {
      if (p.expiresAt !== undefined) ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'a perpetual key does not expire' });
      if (p.supportUntil !== undefined && !(Date.parse(p.supportUntil) > issued)) {
        ctx.addIssue({ code: 'custom', path: ['supportUntil'], message: 'must be after issuedAt' });
      }
    } else {
      if (p.expiresAt === undefined) ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: `a ${p.kind} key must have an expiry` });
      else if (!(Date.parse(p.expiresAt) > issued)) ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'must be after issuedAt' });
      if (p.supportUntil !== undefined) ctx.addIssue({ code: 'custom', path: ['supportUntil'], message: 'only perpetual keys carry support-until' });
    }
  });

// Compile-time check that the schema produces exactly the documented payload.
const _payloadShape: z.ZodType<SerialKeyPayload, SerialKeyPayload> = serialKeyPayloadSchema;
void _payloadShape;

function invalid(detail: string): LicensegateError {
  return new LicensegateError('SERIAL_KEY_INVALID', detail);
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'payload'}: ${i.message}`).join('; ');
}

/** The key with all whitespace removed (the form to store and compare). */
export function normalizeSerialKey(key: string): string {
  return key.replace(/\s+/g, '');
}

function decodeBase64url(part: string, what: string): Buffer {
  if (!BASE64URL.test(part)) throw invalid(`${what} is not base64url`);
  const bytes = Buffer.from(part, 'base64url');
  // Node's decoder is lenient; insisting on the canonical encoding catches truncation and
  // makes the textual key the only form of its bytes.
  if (bytes.toString('base64url') !== part) throw invalid(`${what} is truncated or not canonical base64url`);
  return bytes;
}

interface SplitKey {
  signedText: string;
  payloadBytes: Buffer;
  signature: Buffer;
}

function splitSerialKey(key: string): SplitKey {
  if (typeof key !== 'string') throw invalid('not a string');
  if (key.length > MAX_INPUT_CHARS) throw invalid('too long');
  const compact = normalizeSerialKey(key);
  if (compact === '') throw invalid('empty');
  if (compact.length > MAX_KEY_CHARS) throw invalid('too long');
  const parts = compact.split('.');
  if (parts[0] !== SERIAL_KEY_PREFIX) throw invalid(`does not start with "${SERIAL_KEY_PREFIX}."`);
  if (parts.length < 2 || parts[1] === '') throw invalid('has no payload');
  if (parts.length === 2 || parts[2] === '') throw invalid('is not signed');
  if (parts.length !== 3) throw invalid(`expected ${SERIAL_KEY_PREFIX}.<payload>.<signature>`);
  const [, payloadPart, signaturePart] = parts as [string, string, string];
  const payloadBytes = decodeBase64url(payloadPart, 'payload');
  const signature = decodeBase64url(signaturePart, 'signature');
  if (signature.length !== ED25519_SIGNATURE_BYTES) throw invalid('signature is truncated or not Ed25519');
  return { signedText: `${SERIAL_KEY_PREFIX}.${payloadPart}`, payloadBytes, signature };
}

function decodePayload(bytes: Buffer): SerialKeyPayload {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid('payload is not UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text, (k, v: unknown) => {
      if (k === '__proto__') throw new SyntaxError('"__proto__" is not allowed');
      return v;
    });
  } catch (err) {
    throw invalid(`payload is not JSON (${(err as Error).message})`);
  }
  const parsed = serialKeyPayloadSchema.safeParse(json);
  if (!parsed.success) throw invalid(describeIssues(parsed.error));
  return parsed.data;
}

function assertEd25519(key: KeyObject, type: 'public' | 'private', what: string): void {
  if (key.type !== type || key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`${what} must be an Ed25519 ${type} key (got ${key.asymmetricKeyType ?? key.type} ${key.type})`);
  }
}

/** Fixed field order and license-type order, so equal payloads mint equal payload parts. */
function canonical(p: SerialKeyPayload): SerialKeyPayload {
  const licenses: Partial<Record<LicenseTypeName, number>> = {};
  for (const t of ALL_LICENSE_TYPES) if (p.licenses[t] !== undefined) licenses[t] = p.licenses[t];
  return {
    v: 1,
    keyId: p.keyId,
    edition: p.edition,
    kind: p.kind,
    licenses,
    issuedAt: p.issuedAt,
    ...(p.expiresAt !== undefined ? { expiresAt: p.expiresAt } : {}),
    ...(p.supportUntil !== undefined ? { supportUntil: p.supportUntil } : {}),
    multiTenant: p.multiTenant,
  };
}

/**
 * Signs a payload with the vendor's Ed25519 private key. The payload is validated first
 * (SERIAL_KEY_INVALID with the schema problems if it does not pass).
 */
export function mintSerialKey(payload: SerialKeyPayload, privateKey: KeyObject | string): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  assertEd25519(key, 'private', 'the vendor signing key');
  const parsed = serialKeyPayloadSchema.safeParse(payload);
  if (!parsed.success) throw invalid(describeIssues(parsed.error));
  const payloadPart = Buffer.from(JSON.stringify(canonical(parsed.data)), 'utf8').toString('base64url');
  const signedText = `${SERIAL_KEY_PREFIX}.${payloadPart}`;
  const signature = sign(null, Buffer.from(signedText, 'ascii'), key);
  return `${signedText}.${signature.toString('base64url')}`;
}

/**
 * Verifies a key against the configured vendor public keys and returns its payload.
 * Throws SERIAL_KEY_INVALID for anything that is not a well-formed key signed by one of them,
 * VENDOR_KEYS_MISSING when `publicKeys` is empty. Does not check expiry.
 */
export function verifySerialKey(key: string, publicKeys: readonly KeyObject[]): SerialKeyPayload {
  if (publicKeys.length === 0) throw new LicensegateError('VENDOR_KEYS_MISSING');
  publicKeys.forEach((k, i) => assertEd25519(k, 'public', `vendor public key #${i + 1}`));
  const { signedText, payloadBytes, signature } = splitSerialKey(key);
  const data = Buffer.from(signedText, 'ascii');
  // Signature first: nothing of an unauthenticated payload is interpreted.
  if (!publicKeys.some((k) => verify(null, data, k, signature))) {
    throw invalid('signature does not verify under any configured vendor public key');
  }
  return decodePayload(payloadBytes);
}

/** The payload of a well-formed key WITHOUT checking its signature. For display only. */
export function parseSerialKeyUnverified(key: string): SerialKeyPayload {
  return decodePayload(splitSerialKey(key).payloadBytes);
}

/** When the key expires (ms since the epoch), or null for a perpetual key. */
export function serialKeyExpiresAtMs(payload: SerialKeyPayload): number | null {
  return payload.expiresAt === undefined ? null : Date.parse(payload.expiresAt);
}
