/**
 * The Hello constraints exactly as proto/licensegate/agent/v1/agent.proto's comments state them,
 * written again here from the comments (not imported from the validator) so that the property
 * tests compare the validator against the documentation, not against itself. Lengths count
 * UTF-16 code units (JavaScript's `length`), which for the ASCII the comments have in mind is
 * "characters"; a non-BMP character counts twice — stricter, never looser.
 */
import fc from 'fast-check';
import { OsFamily, ProductType, type IClientFrame } from '../../src/protocol/wire.ts';

export const TENANT_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-';
export const CLIENT_CHARS = `${TENANT_CHARS}:`;
export const SEQ_BOUND = 10 ** 13;

/** Fields of a Hello as an agent would set them (the protobufjs plain-object form). */
export interface HelloFields {
  tenantId: string;
  clientId: string;
  hostname: string;
  agentVersion: string;
  os: { family: number; version: string; productType: number; multiSession: boolean; cloudProvider: string };
  auth: { kind: 'enrollmentToken' | 'clientCredential'; secret: string } | null;
  lastAckedSeq: number;
  nonPersistent: boolean;
}

const onlyOf = (s: string, chars: string) => [...s].every((c) => chars.includes(c));

/** Why the documentation refuses this Hello, or null when it documents it as acceptable. */
export function documentedRefusal(h: HelloFields): 'INVALID_HELLO' | 'UNKNOWN_ENUM_VALUE' | null {
  if (h.tenantId.length < 1 || h.tenantId.length > 64 || !onlyOf(h.tenantId, TENANT_CHARS)) return 'INVALID_HELLO';
  if (h.clientId.length < 1 || h.clientId.length > 128 || !onlyOf(h.clientId, CLIENT_CHARS)) return 'INVALID_HELLO';
  if (h.hostname.length > 255 || h.agentVersion.length > 64) return 'INVALID_HELLO';
  if (h.auth === null || h.auth.secret.length < 1 || h.auth.secret.length > 512) return 'INVALID_HELLO';
  if (!(h.lastAckedSeq >= 0 && h.lastAckedSeq < SEQ_BOUND)) return 'INVALID_HELLO';
  if (typeof OsFamily[h.os.family] !== 'string' || typeof ProductType[h.os.productType] !== 'string') return 'UNKNOWN_ENUM_VALUE';
  if (h.os.version.length > 128 || h.os.cloudProvider.length > 64) return 'INVALID_HELLO';
  return null;
}

export function helloFrame(h: HelloFields): IClientFrame {
  const auth = h.auth === null ? {} : { [h.auth.kind]: h.auth.secret };
  return {
    hello: { tenantId: h.tenantId, clientId: h.clientId, hostname: h.hostname, agentVersion: h.agentVersion, os: h.os, lastAckedSeq: h.lastAckedSeq, nonPersistent: h.nonPersistent, ...auth },
  };
}

/** Any text (every code point, no lone surrogates: protobuf strings are UTF-8). */
export const text = (maxLength: number, minLength = 0) => fc.string({ unit: 'binary', minLength, maxLength });
export const ofChars = (chars: string, minLength: number, maxLength: number) => fc.string({ unit: fc.constantFrom(...chars), minLength, maxLength });

/** A string of length `min..max` with at least one character outside `chars`. */
export function withForeignChar(chars: string, min: number, max: number): fc.Arbitrary<string> {
  return fc
    .tuple(ofChars(chars, Math.max(0, min - 1), max - 1), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => !chars.includes(c) && c.length === 1), fc.nat())
    .map(([s, c, at]) => {
      const i = at % (s.length + 1);
      return s.slice(0, i) + c + s.slice(i);
    });
}

/** Hellos every field of which the documentation accepts. */
export const validHello: fc.Arbitrary<HelloFields> = fc.record({
  tenantId: ofChars(TENANT_CHARS, 1, 64),
  clientId: ofChars(CLIENT_CHARS, 1, 128),
  hostname: text(255),
  agentVersion: text(64),
  os: fc.record({
    family: fc.constantFrom(0, 1, 2, 3),
    version: text(128),
    productType: fc.constantFrom(0, 1, 2),
    multiSession: fc.boolean(),
    cloudProvider: text(64),
  }),
  auth: fc.record({ kind: fc.constantFrom('enrollmentToken' as const, 'clientCredential' as const), secret: text(512, 1) }),
  lastAckedSeq: fc.integer({ min: 0, max: SEQ_BOUND - 1 }),
  nonPersistent: fc.boolean(),
});

/** Mostly `usual` (so that whole Hellos are often valid), sometimes one of `edges`. */
function edge<T>(usual: fc.Arbitrary<T>, ...edges: fc.Arbitrary<T>[]): fc.Arbitrary<T> {
  return fc.oneof({ weight: 6 * edges.length, arbitrary: usual }, ...edges.map((arbitrary) => ({ weight: 1, arbitrary })));
}

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const authKind = fc.constantFrom('enrollmentToken' as const, 'clientCredential' as const);

/**
 * Hellos each field of which is drawn from both sides of its documented boundary (valid, just
 * valid, just invalid, wrong characters, missing), so both answers occur often.
 */
export const edgyHello: fc.Arbitrary<HelloFields> = fc.record({
  tenantId: edge(ofChars(TENANT_CHARS, 1, 64), fc.constantFrom('', 'a'.repeat(64), 'a'.repeat(65)), withForeignChar(TENANT_CHARS, 1, 64)),
  clientId: edge(ofChars(CLIENT_CHARS, 1, 128), fc.constantFrom('', 'c:'.repeat(64), 'c'.repeat(129)), withForeignChar(CLIENT_CHARS, 1, 128)),
  hostname: edge(text(255), fc.constantFrom('h'.repeat(255), 'h'.repeat(256)), text(300, 256)),
  agentVersion: edge(text(64), fc.constantFrom('v'.repeat(64), 'v'.repeat(65))),
  os: fc.record({
    family: edge(fc.constantFrom(0, 1, 2, 3), fc.constantFrom(4, -1), int32),
    version: edge(text(128), fc.constantFrom('9'.repeat(128), '9'.repeat(129))),
    productType: edge(fc.constantFrom(0, 1, 2), fc.constantFrom(3, -1), int32),
    multiSession: fc.boolean(),
    cloudProvider: edge(text(64), fc.constantFrom('a'.repeat(64), 'a'.repeat(65))),
  }),
  auth: edge<HelloFields['auth']>(
    fc.record({ kind: authKind, secret: edge(text(512, 1), fc.constantFrom('', 's'.repeat(512), 's'.repeat(513))) }),
    fc.constant(null),
  ),
  lastAckedSeq: edge(fc.integer({ min: 0, max: SEQ_BOUND - 1 }), fc.constantFrom(0, SEQ_BOUND - 1, SEQ_BOUND, Number.MAX_SAFE_INTEGER), fc.integer({ min: SEQ_BOUND, max: Number.MAX_SAFE_INTEGER })),
  nonPersistent: fc.boolean(),
});
