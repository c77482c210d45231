/**
 * Property-based tests of the Hello validator (decode-client-frame.ts, SPEC R2, C2): it accepts
 * exactly the Hellos agent.proto's comments document — tenant 1-64 of [A-Za-z0-9._-], client
 * id 1-128 of [A-Za-z0-9._:-], hostname ≤ 255, agent version ≤ 64, os.version ≤ 128,
 * cloud provider ≤ 64, exactly one secret of 1-512, last_acked_seq below 10^13, known enum
 * values — with both sides of every boundary generated. The oracle (property-hello-documented.ts)
 * is written from the comments, not from the validator.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LicensegateError } from '../../src/errors.ts';
import { decodeClientFrame } from '../../src/protocol/decode-client-frame.ts';
import { ClientFrame } from '../../src/protocol/wire.ts';
import {
  CLIENT_CHARS,
  documentedRefusal,
  edgyHello,
  helloFrame,
  ofChars,
  SEQ_BOUND,
  TENANT_CHARS,
  text,
  validHello,
  withForeignChar,
  type HelloFields,
} from './property-hello-documented.ts';

const seed = process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {};
const runs = (numRuns: number) => ({ numRuns, ...seed });

/** null: accepted; otherwise the code it was refused with. */
function verdict(h: HelloFields): string | null {
  try {
    const msg = decodeClientFrame(ClientFrame.encode(helloFrame(h)).finish());
    expect(msg.kind).toBe('hello');
    return null;
  } catch (err) {
    if (!(err instanceof LicensegateError)) throw err;
    return err.code;
  }
}

/** One field of a valid Hello replaced by each value `values` generates. */
function withField<K extends keyof HelloFields>(key: K, values: fc.Arbitrary<HelloFields[K]>): fc.Arbitrary<HelloFields> {
  return fc.tuple(validHello, values).map(([h, v]) => ({ ...h, [key]: v }));
}

function withOs<K extends keyof HelloFields['os']>(key: K, values: fc.Arbitrary<HelloFields['os'][K]>): fc.Arbitrary<HelloFields> {
  return fc.tuple(validHello, values).map(([h, v]) => ({ ...h, os: { ...h.os, [key]: v } }));
}

function accepts(arb: fc.Arbitrary<HelloFields>, numRuns = 200): void {
  fc.assert(fc.property(arb, (h) => {
    expect(verdict(h)).toBeNull();
  }), runs(numRuns));
}

function refuses(arb: fc.Arbitrary<HelloFields>, code = 'INVALID_HELLO', numRuns = 200): void {
  fc.assert(fc.property(arb, (h) => {
    expect(verdict(h)).toBe(code);
  }), runs(numRuns));
}

describe('Hello validator (properties)', () => {
  it('R2: accepts exactly what agent.proto documents (every field on both sides of its boundary)', () => {
    const answers = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(edgyHello, (h) => {
        const expected = documentedRefusal(h);
        expect(verdict(h)).toBe(expected);
        answers[expected === null ? 'accepted' : 'refused']++;
      }),
      runs(2_000),
    );
    // Both sides were really exercised.
    expect(answers.accepted).toBeGreaterThan(20);
    expect(answers.refused).toBeGreaterThan(200);
  });

  it('R2: tenant id — 1-64 of [A-Za-z0-9._-] accepted; empty, 65+ or any other character refused', () => {
    accepts(withField('tenantId', ofChars(TENANT_CHARS, 1, 64)));
    accepts(withField('tenantId', ofChars(TENANT_CHARS, 64, 64)), 20);
    refuses(withField('tenantId', fc.constant('')), 'INVALID_HELLO', 5);
    refuses(withField('tenantId', ofChars(TENANT_CHARS, 65, 80)));
    refuses(withField('tenantId', withForeignChar(TENANT_CHARS, 1, 64)));
    // ':' is a client-id character only; a trailing newline must not slip past an anchored pattern.
    refuses(withField('tenantId', fc.constantFrom('a:b', 'tenant\n', '\ntenant', 'ten ant', 'tenänt')), 'INVALID_HELLO', 20);
  });

  it('R2: client id — 1-128 of [A-Za-z0-9._:-] accepted; empty, 129+ or any other character refused', () => {
    accepts(withField('clientId', ofChars(CLIENT_CHARS, 1, 128)));
    accepts(withField('clientId', ofChars(CLIENT_CHARS, 128, 128)), 20);
    refuses(withField('clientId', fc.constant('')), 'INVALID_HELLO', 5);
    refuses(withField('clientId', ofChars(CLIENT_CHARS, 129, 160)));
    refuses(withField('clientId', withForeignChar(CLIENT_CHARS, 1, 128)));
    refuses(withField('clientId', fc.constantFrom('c-1\n', 'c/1', 'c\u00001', 'c\u001b[31m')), 'INVALID_HELLO', 20);
  });

  it('R2: free-text fields — hostname ≤ 255, agent version ≤ 64, os.version ≤ 128, cloud provider ≤ 64, any characters', () => {
    accepts(withField('hostname', text(255)));
    accepts(withField('hostname', fc.constant('h'.repeat(255))), 5);
    refuses(withField('hostname', text(300, 256)));
    accepts(withField('agentVersion', text(64)));
    refuses(withField('agentVersion', text(100, 65)));
    accepts(withOs('version', text(128)));
    refuses(withOs('version', text(160, 129)));
    accepts(withOs('cloudProvider', text(64)));
    refuses(withOs('cloudProvider', text(100, 65)));
  });

  it('R2: exactly one secret of 1-512 characters (enrollment token or credential)', () => {
    const kind = fc.constantFrom('enrollmentToken' as const, 'clientCredential' as const);
    accepts(withField('auth', fc.record({ kind, secret: text(512, 1) })));
    accepts(withField('auth', fc.record({ kind, secret: fc.constant('s'.repeat(512)) })), 10);
    refuses(withField('auth', fc.record({ kind, secret: fc.constant('') })), 'INVALID_HELLO', 10);
    refuses(withField('auth', fc.record({ kind, secret: text(600, 513) })));
    refuses(withField('auth', fc.constant(null)), 'INVALID_HELLO', 5);
  });

  it('R2: last_acked_seq below 10^13 accepted, 10^13 and above refused (agent.proto: "Must be below 10^13")', () => {
    accepts(withField('lastAckedSeq', fc.integer({ min: 0, max: SEQ_BOUND - 1 })));
    accepts(withField('lastAckedSeq', fc.constantFrom(0, SEQ_BOUND - 1)), 10);
    refuses(withField('lastAckedSeq', fc.integer({ min: SEQ_BOUND, max: Number.MAX_SAFE_INTEGER })));
    refuses(withField('lastAckedSeq', fc.constant(SEQ_BOUND)), 'INVALID_HELLO', 5);
  });

  it('R2: os enums — defined values accepted, any other value UNKNOWN_ENUM_VALUE', () => {
    const other = (defined: number[]) => fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).filter((v) => !defined.includes(v));
    accepts(withOs('family', fc.constantFrom(0, 1, 2, 3)), 20);
    refuses(withOs('family', other([0, 1, 2, 3])), 'UNKNOWN_ENUM_VALUE');
    accepts(withOs('productType', fc.constantFrom(0, 1, 2)), 20);
    refuses(withOs('productType', other([0, 1, 2])), 'UNKNOWN_ENUM_VALUE');
  });
});
