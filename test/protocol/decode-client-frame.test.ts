import { describe, expect, it } from 'vitest';
import { LicensegateError } from '../../src/errors.ts';
import { decodeClientFrame } from '../../src/protocol/decode-client-frame.ts';
import { ClientFrame, OsFamily, ProductType, type IClientFrame } from '../../src/protocol/wire.ts';

const hello = {
  tenantId: 'default',
  clientId: 'c-1',
  hostname: 'host-1',
  os: { family: OsFamily.OS_FAMILY_WINDOWS, productType: ProductType.PRODUCT_TYPE_WORKSTATION, version: '10.0' },
  agentVersion: '1.2.3',
  enrollmentToken: 'token-token-token-1',
  lastAckedSeq: 4,
  enrollmentProof: 'proof-proof-proof-01',
};

function bytes(frame: IClientFrame): Uint8Array {
  return ClientFrame.encode(frame).finish();
}

function codeOf(fn: () => unknown): { code: string; closeCode: number } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LicensegateError);
    const e = err as LicensegateError;
    return { code: e.code, closeCode: e.closeCode };
  }
  throw new Error('expected a LicensegateError');
}

describe('decodeClientFrame', () => {
  it('C1: decodes a Hello with every field', () => {
    const msg = decodeClientFrame(bytes({ hello }));
    expect(msg).toEqual({
      kind: 'hello',
      hello: {
        tenantId: 'default',
        clientId: 'c-1',
        hostname: 'host-1',
        os: { family: OsFamily.OS_FAMILY_WINDOWS, productType: ProductType.PRODUCT_TYPE_WORKSTATION, version: '10.0', multiSession: false, cloudProvider: '' },
        agentVersion: '1.2.3',
        auth: { kind: 'enrollmentToken', secret: 'token-token-token-1' },
        lastAckedSeq: 4,
        nonPersistent: false,
        enrollmentProof: 'proof-proof-proof-01',
      },
    });
  });

  it('C1: decodes a Hello authenticated by credential', () => {
    const { enrollmentToken: _, ...rest } = hello;
    const msg = decodeClientFrame(bytes({ hello: { ...rest, clientCredential: 'cred' } }));
    expect(msg.kind === 'hello' && msg.hello.auth).toEqual({ kind: 'credential', secret: 'cred' });
  });

  it('C1: decodes heartbeat, ack and uninstall notice', () => {
    expect(decodeClientFrame(bytes({ heartbeat: {} }))).toEqual({ kind: 'heartbeat' });
    expect(decodeClientFrame(bytes({ commandAck: { seq: 7 } }))).toEqual({ kind: 'commandAck', seq: 7 });
    expect(decodeClientFrame(bytes({ uninstallNotice: {} }))).toEqual({ kind: 'uninstallNotice' });
  });

  it('R2: garbage bytes are MALFORMED_FRAME with close code 1007', () => {
    expect(codeOf(() => decodeClientFrame(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])))).toEqual({ code: 'MALFORMED_FRAME', closeCode: 1007 });
    expect(codeOf(() => decodeClientFrame(Uint8Array.from([0x0f])))).toEqual({ code: 'MALFORMED_FRAME', closeCode: 1007 });
  });

  it('R2: a frame with no body (empty oneof) is EMPTY_FRAME', () => {
    expect(codeOf(() => decodeClientFrame(new Uint8Array(0))).code).toBe('EMPTY_FRAME');
    // Only an unknown field (number 15, varint): decodes, but no body is set.
    expect(codeOf(() => decodeClientFrame(Uint8Array.from([0x78, 0x01]))).code).toBe('EMPTY_FRAME');
  });

  it('R2: unknown enum values are UNKNOWN_ENUM_VALUE', () => {
    expect(codeOf(() => decodeClientFrame(bytes({ hello: { ...hello, os: { family: 42 as OsFamily } } }))).code).toBe('UNKNOWN_ENUM_VALUE');
    expect(codeOf(() => decodeClientFrame(bytes({ hello: { ...hello, os: { family: OsFamily.OS_FAMILY_WINDOWS, productType: 9 as ProductType } } }))).code).toBe('UNKNOWN_ENUM_VALUE');
  });

  it('C2: a Hello without a secret, client id or valid tenant id is INVALID_HELLO', () => {
    const { enrollmentToken: _, ...noAuth } = hello;
    expect(codeOf(() => decodeClientFrame(bytes({ hello: noAuth }))).code).toBe('INVALID_HELLO');
    expect(codeOf(() => decodeClientFrame(bytes({ hello: { ...hello, clientId: '' } }))).code).toBe('INVALID_HELLO');
    expect(codeOf(() => decodeClientFrame(bytes({ hello: { ...hello, clientId: 'a b' } }))).code).toBe('INVALID_HELLO');
    expect(codeOf(() => decodeClientFrame(bytes({ hello: { ...hello, tenantId: '' } }))).code).toBe('INVALID_HELLO');
    expect(codeOf(() => decodeClientFrame(bytes({ hello: { ...hello, hostname: 'h'.repeat(256) } }))).code).toBe('INVALID_HELLO');
    expect(codeOf(() => decodeClientFrame(bytes({ hello: { ...hello, enrollmentToken: '' } }))).code).toBe('INVALID_HELLO');
  });

  it('C7: an ack of seq 0 is INVALID_ACK', () => {
    expect(codeOf(() => decodeClientFrame(bytes({ commandAck: { seq: 0 } }))).code).toBe('INVALID_ACK');
  });
});
