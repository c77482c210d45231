/**
 * Bytes in, a validated ClientMessage out — or a LicensegateError with the code (and WebSocket
 * close code) the frame deserves. Mirrors ws's receiver: pure, tested with raw bytes.
 */
import { LicensegateError } from '../errors.ts';
import type { ClientMessage, HelloMessage, OsReport } from './client-message.ts';
import { ClientFrame, isKnownEnumValue, OsFamily, ProductType, type Hello } from './wire.ts';

/** Limits on Hello's strings; they are part of the public protocol (see agent.proto). */
export const HELLO_LIMITS = {
  tenantId: /^[A-Za-z0-9._-]{1,64}$/,
  clientId: /^[A-Za-z0-9._:-]{1,128}$/,
  hostnameMax: 255,
  agentVersionMax: 64,
  osVersionMax: 128,
  cloudProviderMax: 64,
  secretMax: 512,
  /** agent.proto: "Must be below 10^13" (hello-1.lua's SEQ_LIMIT; no seq the gateway sends reaches it). */
  lastAckedSeqBelow: 10_000_000_000_000,
  /** Hello.enrollment_proof when set: 16-128 printable ASCII characters (Z3). */
  enrollmentProof: /^[\x21-\x7e]{16,128}$/,
} as const;

export function decodeClientFrame(bytes: Uint8Array): ClientMessage {
  let frame: ReturnType<typeof ClientFrame.decode>;
  try {
    frame = ClientFrame.decode(bytes);
  } catch (err) {
    throw new LicensegateError('MALFORMED_FRAME', (err as Error).message);
  }
  switch (frame.body) {
    case 'hello':
      return { kind: 'hello', hello: validateHello(frame.hello as Hello) };
    case 'heartbeat':
      return { kind: 'heartbeat' };
    case 'commandAck': {
      const seq = Number(frame.commandAck!.seq ?? 0);
      if (!Number.isSafeInteger(seq) || seq < 1) throw new LicensegateError('INVALID_ACK', `seq ${String(frame.commandAck!.seq)}`);
      return { kind: 'commandAck', seq };
    }
    case 'uninstallNotice':
      return { kind: 'uninstallNotice' };
    default:
      throw new LicensegateError('EMPTY_FRAME');
  }
}

function validateHello(h: Hello): HelloMessage {
  const tenantId = h.tenantId ?? '';
  const clientId = h.clientId ?? '';
  if (!HELLO_LIMITS.tenantId.test(tenantId)) throw invalid('tenant_id must be 1-64 characters of [A-Za-z0-9._-]');
  if (!HELLO_LIMITS.clientId.test(clientId)) throw invalid('client_id must be 1-128 characters of [A-Za-z0-9._:-]');
  const hostname = h.hostname ?? '';
  if (hostname.length > HELLO_LIMITS.hostnameMax) throw invalid('hostname longer than 255 characters');
  const agentVersion = h.agentVersion ?? '';
  if (agentVersion.length > HELLO_LIMITS.agentVersionMax) throw invalid('agent_version longer than 64 characters');

  let auth: HelloMessage['auth'];
  if (h.auth === 'enrollmentToken') auth = { kind: 'enrollmentToken', secret: h.enrollmentToken ?? '' };
  else if (h.auth === 'clientCredential') auth = { kind: 'credential', secret: h.clientCredential ?? '' };
  else throw invalid('one of enrollment_token or client_credential must be set');
  if (auth.secret.length === 0 || auth.secret.length > HELLO_LIMITS.secretMax) throw invalid('secret must be 1-512 characters');

  const enrollmentProof = h.enrollmentProof ?? '';
  if (enrollmentProof !== '' && !HELLO_LIMITS.enrollmentProof.test(enrollmentProof)) throw invalid('enrollment_proof must be 16-128 printable ASCII characters');

  const lastAckedSeq = Number(h.lastAckedSeq ?? 0);
  if (!Number.isSafeInteger(lastAckedSeq) || lastAckedSeq < 0 || lastAckedSeq >= HELLO_LIMITS.lastAckedSeqBelow) throw invalid('last_acked_seq out of range');

  return {
    tenantId,
    clientId,
    hostname,
    os: validateOs(h.os ?? {}),
    agentVersion,
    auth,
    lastAckedSeq,
    nonPersistent: h.nonPersistent === true,
    enrollmentProof,
  };
}

function validateOs(os: NonNullable<Hello['os']>): OsReport {
  const family = os.family ?? OsFamily.OS_FAMILY_UNSPECIFIED;
  const productType = os.productType ?? ProductType.PRODUCT_TYPE_UNSPECIFIED;
  if (!isKnownEnumValue(OsFamily, family)) throw new LicensegateError('UNKNOWN_ENUM_VALUE', `OsFamily ${family}`);
  if (!isKnownEnumValue(ProductType, productType)) throw new LicensegateError('UNKNOWN_ENUM_VALUE', `ProductType ${productType}`);
  const version = os.version ?? '';
  const cloudProvider = os.cloudProvider ?? '';
  if (version.length > HELLO_LIMITS.osVersionMax) throw invalid('os.version longer than 128 characters');
  if (cloudProvider.length > HELLO_LIMITS.cloudProviderMax) throw invalid('os.cloud_provider longer than 64 characters');
  return { family, version, productType, multiSession: os.multiSession === true, cloudProvider };
}

function invalid(detail: string): LicensegateError {
  return new LicensegateError('INVALID_HELLO', detail);
}
