/**
 * Typed form of what an agent can send, after decoding and validation. Pure data: no sockets,
 * Redis or logging anywhere in src/protocol.
 */
import type { LicenseType as WireLicenseType, OsFamily, ProductType } from './wire.ts';

export interface OsReport {
  family: OsFamily;
  version: string;
  productType: ProductType;
  multiSession: boolean;
  cloudProvider: string;
}

export type HelloAuth = { kind: 'enrollmentToken'; secret: string } | { kind: 'credential'; secret: string };

export interface HelloMessage {
  tenantId: string;
  clientId: string;
  hostname: string;
  os: OsReport;
  agentVersion: string;
  auth: HelloAuth;
  lastAckedSeq: number;
  nonPersistent: boolean;
  /** Hello.enrollment_proof: the per-install secret binding the client id (Z3); '' when none. */
  enrollmentProof: string;
}

export type ClientMessage =
  | { kind: 'hello'; hello: HelloMessage }
  | { kind: 'heartbeat' }
  | { kind: 'commandAck'; seq: number }
  | { kind: 'uninstallNotice' };

/** A command as the gateway sends it (one entry of the Client's log). */
export type CommandBody =
  | { kind: 'startMonitoring'; licenseType: WireLicenseType }
  | { kind: 'stopMonitoring'; reason: string }
  | { kind: 'uninstall' };
