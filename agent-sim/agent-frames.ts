/**
 * The agent's side of the wire format (proto/licensegate/agent/v1/agent.proto): the Hello it
 * sends, ClientFrame encoding, and the decoding of ServerFrames into the plain objects Agent
 * reports. Pure functions: no socket, no agent state beyond what is passed in.
 */
import type WebSocket from 'ws';
import { ClientFrame, ServerFrame, type IClientFrame } from '../src/protocol/wire.ts';
import type { AgentCommand, AgentOs, ErrorFrameInfo, WelcomeInfo } from './agent-types.ts';

export type Hello = NonNullable<IClientFrame['hello']>;
export type ServerFrameT = ReturnType<typeof ServerFrame.decode>;

/** What buildHello reads of the agent (Agent has all of these as public properties). */
export interface HelloFields {
  readonly tenantId: string;
  readonly clientId: string;
  readonly hostname: string;
  readonly os: AgentOs;
  readonly agentVersion: string;
  readonly lastAckedSeq: number;
  readonly nonPersistent: boolean;
  readonly credential: string | undefined;
}

/** Hello authenticates with the credential when there is one, else with the enrollment token (and proof). */
export function buildHello(f: HelloFields, enrollmentToken: string | undefined, enrollmentProof: string | undefined): Hello {
  const hello: Hello = {
    tenantId: f.tenantId,
    clientId: f.clientId,
    hostname: f.hostname,
    os: { ...f.os }, // unset fields are omitted from the encoding
    agentVersion: f.agentVersion,
    lastAckedSeq: f.lastAckedSeq,
    nonPersistent: f.nonPersistent,
  };
  if (f.credential !== undefined) hello.clientCredential = f.credential;
  else if (enrollmentToken !== undefined) {
    hello.enrollmentToken = enrollmentToken;
    if (enrollmentProof !== undefined) hello.enrollmentProof = enrollmentProof;
  }
  return hello;
}

export function encodeClientFrame(frame: IClientFrame): Uint8Array {
  return ClientFrame.encode(frame).finish();
}

/** Decodes one WebSocket message; throws on a text frame or garbage (the caller reports it). */
export function decodeServerFrame(data: WebSocket.RawData, isBinary: boolean): ServerFrameT {
  if (!isBinary) throw new Error('gateway sent a text frame');
  const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
  return ServerFrame.decode(bytes);
}

export function welcomeInfo(w: NonNullable<ServerFrameT['welcome']>): WelcomeInfo {
  return {
    clientId: w.clientId ?? '',
    license: { licensed: w.license?.licensed === true, type: Number(w.license?.type ?? 0), reason: w.license?.reason ?? '' },
    heartbeatIntervalMs: Number(w.heartbeatIntervalMs ?? 0),
  };
}

/** The Command as the agent records it; `duplicate` when seq <= lastAckedSeq. Throws on a Command without a kind. */
export function agentCommand(c: NonNullable<ServerFrameT['command']>, lastAckedSeq: number): AgentCommand {
  const seq = Number(c.seq ?? 0);
  const duplicate = seq <= lastAckedSeq;
  if (c.startMonitoring) return { seq, kind: 'start', licenseType: Number(c.startMonitoring.licenseType ?? 0), duplicate };
  if (c.stopMonitoring) return { seq, kind: 'stop', reason: c.stopMonitoring.reason ?? '', duplicate };
  if (c.uninstall) return { seq, kind: 'uninstall', duplicate };
  throw new Error(`gateway sent Command ${seq} without a kind`);
}

export function errorFrameInfo(e: NonNullable<ServerFrameT['error']>): ErrorFrameInfo {
  return { code: e.code ?? '', message: e.message ?? '', retryAfterMs: Number(e.retryAfterMs ?? 0) };
}
