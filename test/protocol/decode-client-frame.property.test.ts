/**
 * Property-based tests of the frame decoder (SPEC R2): whatever bytes arrive, decodeClientFrame
 * either returns a message that keeps every documented constraint or throws a coded
 * LicensegateError from the catalogue — never anything else. fast-check prints the seed and
 * the shrunk counterexample on failure; rerun one with `FC_SEED=<seed>`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isErrorCode, LicensegateError } from '../../src/errors.ts';
import type { ClientMessage } from '../../src/protocol/client-message.ts';
import { decodeClientFrame } from '../../src/protocol/decode-client-frame.ts';
import { ClientFrame, type IClientFrame } from '../../src/protocol/wire.ts';
import { applyMutation, mutation } from './property-frame-mutations.ts';
import { documentedRefusal, helloFrame, validHello, type HelloFields } from './property-hello-documented.ts';

const seed = process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {};
const runs = (numRuns: number) => ({ numRuns, ...seed });

/** The codes the decoder may throw: bad input only, never a server fault. */
const DECODER_CODES = new Set(['MALFORMED_FRAME', 'EMPTY_FRAME', 'UNKNOWN_ENUM_VALUE', 'INVALID_HELLO', 'INVALID_ACK']);

type Outcome = { ok: true; msg: ClientMessage } | { ok: false; code: string };

/** Decodes; anything thrown that is not a coded decoder error fails the property. */
function outcome(bytes: Uint8Array): Outcome {
  try {
    return { ok: true, msg: decodeClientFrame(bytes) };
  } catch (err) {
    if (!(err instanceof LicensegateError)) throw new Error(`threw a non-LicensegateError: ${String(err)}`);
    if (!isErrorCode(err.code) || !DECODER_CODES.has(err.code)) throw new Error(`threw unexpected code ${err.code}`);
    return { ok: false, code: err.code };
  }
}

function fieldsOf(msg: Extract<ClientMessage, { kind: 'hello' }>['hello']): HelloFields {
  return {
    tenantId: msg.tenantId,
    clientId: msg.clientId,
    hostname: msg.hostname,
    agentVersion: msg.agentVersion,
    os: { family: msg.os.family, version: msg.os.version, productType: msg.os.productType, multiSession: msg.os.multiSession, cloudProvider: msg.os.cloudProvider },
    auth: { kind: msg.auth.kind === 'credential' ? 'clientCredential' : 'enrollmentToken', secret: msg.auth.secret },
    lastAckedSeq: msg.lastAckedSeq,
    nonPersistent: msg.nonPersistent,
  };
}

/** A decoded message keeps every documented constraint and says what protobuf itself decoded. */
function assertDocumented(bytes: Uint8Array, msg: ClientMessage): void {
  const raw = ClientFrame.decode(bytes);
  if (msg.kind === 'hello') {
    expect(documentedRefusal(fieldsOf(msg.hello))).toBeNull();
    expect(msg.hello.tenantId).toBe(raw.hello!.tenantId);
    expect(msg.hello.clientId).toBe(raw.hello!.clientId);
  } else if (msg.kind === 'commandAck') {
    expect(Number.isSafeInteger(msg.seq) && msg.seq >= 1).toBe(true);
    expect(msg.seq).toBe(Number(raw.commandAck!.seq));
  } else {
    expect(raw.body).toBe(msg.kind);
  }
}

const encode = (f: IClientFrame) => ClientFrame.encode(f).finish();

/** Valid frames of every kind, with what the decoder must return for each. */
const validFrame: fc.Arbitrary<{ frame: IClientFrame; expected: unknown }> = fc.oneof(
  validHello.map((h) => ({
    frame: helloFrame(h),
    expected: {
      kind: 'hello',
      hello: {
        tenantId: h.tenantId,
        clientId: h.clientId,
        hostname: h.hostname,
        agentVersion: h.agentVersion,
        os: h.os,
        auth: { kind: h.auth!.kind === 'clientCredential' ? 'credential' : 'enrollmentToken', secret: h.auth!.secret },
        lastAckedSeq: h.lastAckedSeq,
        nonPersistent: h.nonPersistent,
      },
    },
  })),
  fc.constant({ frame: { heartbeat: {} }, expected: { kind: 'heartbeat' } }),
  fc.constant({ frame: { uninstallNotice: {} }, expected: { kind: 'uninstallNotice' } }),
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }).map((seq) => ({ frame: { commandAck: { seq } }, expected: { kind: 'commandAck', seq } })),
);

/** Byte strings shaped like protobuf: a run of fields with random numbers, wire types and payloads. */
const protobufish: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 24 }), fc.boolean()),
    { maxLength: 8 },
  )
  .map((fields) => {
    const out: number[] = [];
    for (const [field, wire, payload, withLength] of fields) {
      out.push(((field << 3) | wire) & 0x7f | (field >= 16 ? 0x80 : 0), ...(field >= 16 ? [field >> 4] : []));
      if (wire === 2 && withLength) out.push(payload.length);
      out.push(...payload);
    }
    return Uint8Array.from(out);
  });

describe('decodeClientFrame (properties)', () => {
  it('R2: arbitrary bytes never throw anything but a coded catalogue error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const o = outcome(bytes);
        if (o.ok) assertDocumented(bytes, o.msg);
      }),
      runs(3_000),
    );
  });

  it('R2: protobuf-shaped random fields decode to a documented message or a coded error', () => {
    fc.assert(
      fc.property(protobufish, (bytes) => {
        const o = outcome(bytes);
        if (o.ok) assertDocumented(bytes, o.msg);
      }),
      runs(3_000),
    );
  });

  it('R2: valid frames built from arbitraries round-trip through protobufjs encode and decode', () => {
    fc.assert(
      fc.property(validFrame, ({ frame, expected }) => {
        const o = outcome(encode(frame));
        expect(o.ok).toBe(true);
        // toMatchObject: fields the protocol gains later (backward compatible) do not break this.
        if (o.ok) expect(o.msg).toMatchObject(expected as object);
      }),
      runs(500),
    );
  });

  it('R2: mutated valid frames (bit flips, truncation, extension, insertion, retagging) give a documented message or a coded error', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(validFrame, fc.array(mutation, { minLength: 1, maxLength: 3 }), ({ frame }, ms) => {
        let bytes = encode(frame);
        for (const m of ms) bytes = applyMutation(bytes, m);
        const o = outcome(bytes);
        const key = o.ok ? `ok:${o.msg.kind}` : o.code;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        if (o.ok) assertDocumented(bytes, o.msg);
      }),
      runs(3_000),
    );
    // The mutations reach both answers: some frames survive, several kinds of refusal occur.
    expect([...seen.keys()].filter((k) => k.startsWith('ok:')).length).toBeGreaterThan(0);
    expect([...seen.keys()].filter((k) => !k.startsWith('ok:')).length).toBeGreaterThanOrEqual(3);
  });

  it('R2: deeply nested unknown groups (up to a whole 64 KiB frame of them) are MALFORMED_FRAME, not a stack overflow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65_536 }), fc.integer({ min: 5, max: 15 }), (depth, field) => {
        const o = outcome(new Uint8Array(depth).fill((field << 3) | 3));
        expect(o.ok ? 'ok' : o.code).toBe('MALFORMED_FRAME');
      }),
      runs(50),
    );
  });
});
