/**
 * The public shapes of a simulated agent (agent.ts): its options, what it reports about its
 * license, Commands, Welcome, Error frames and closes, the JSON state a simulator persists, and
 * the events it emits. Kept apart from the Agent class so the shapes read as one contract.
 */
import type { Agent } from './agent.ts';
import type { ClientTls } from './tls-options.ts';
import type { OsFamily, ProductType } from '../src/protocol/wire.ts';
import type { BackoffOptions } from './backoff.ts';

/** Operating system facts the agent reports in Hello.os. */
export interface AgentOs {
  family: OsFamily;
  productType?: ProductType;
  multiSession?: boolean;
  cloudProvider?: string;
  version?: string;
}

/** Reason passed to AgentOptions.onStateChange. */
export type AgentStateChange = 'connected' | 'disconnected' | 'credential' | 'ack' | 'command' | 'uninstalled';

export interface AgentOptions {
  /** Gateway endpoint, e.g. ws://127.0.0.1:8080/agent. */
  url: string;
  /**
   * Several gateway endpoints (a client-side failover list): each connection attempt takes the
   * next one in turn, starting with the first, so an agent whose gateway died reconnects to
   * another. Default: [url].
   */
  urls?: readonly string[];
  /** Default 'default'. */
  tenantId?: string;
  clientId: string;
  /** Sent as Hello.enrollment_token while the agent has no credential. */
  enrollmentToken?: string;
  /** When set, Hello authenticates with client_credential instead of the enrollment token. */
  credential?: string;
  /**
   * Sent as Hello.enrollment_proof with the enrollment token (SPEC Z3): the per-install secret
   * that binds the client id (see ./enrollment-proof.ts). Default: none (an older agent).
   */
  enrollmentProof?: string;
  /** Default: clientId. */
  hostname?: string;
  os: AgentOs;
  /** Default '1.0.0'. */
  agentVersion?: string;
  nonPersistent?: boolean;
  /** Highest applied and acknowledged Command.seq, sent in Hello. Default 0. */
  lastAckedSeq?: number;
  /** Acknowledge every Command as soon as it is received (and applied). Default true. */
  autoAck?: boolean;
  /** Send Heartbeat every Welcome.heartbeat_interval_ms. Default true. */
  heartbeat?: boolean;
  /**
   * Reconnect after every close with backoff (honouring an Error's retry_after_ms) until
   * close()/terminate() is called, the agent is uninstalled, or the gateway closes it with a
   * code in NO_RECONNECT_CODES. The attempt count resets after each Welcome. Default false.
   */
  reconnect?: boolean;
  /** Default DEFAULT_BACKOFF ({ baseMs: 500, capMs: 30000 }). */
  backoff?: BackoffOptions;
  /** Local source address for the TCP connection (spreads a fleet over source addresses). */
  localAddress?: string;
  /** wss:// only: the CA / client certificate context (tls-options.ts); default the system's CAs. */
  tls?: ClientTls;
  /** Deadline from socket creation to Welcome, and for close()'s closing handshake. Default 10000. */
  handshakeTimeoutMs?: number;
  /** Called after any change of the state toState() persists, and of connected/uninstalled. */
  onStateChange?: (agent: Agent, change: AgentStateChange) => void;
}

/** The agent's view of its license, as reported by the last Welcome. */
export interface AgentLicense {
  licensed: boolean;
  /** A LicenseType value. */
  type: number;
  reason: string;
}

/** One Command as received (redelivered duplicates are recorded too, with duplicate: true). */
export interface AgentCommand {
  seq: number;
  kind: 'start' | 'stop' | 'uninstall';
  /** StartMonitoring.license_type. */
  licenseType?: number;
  /** StopMonitoring.reason. */
  reason?: string;
  /** seq was <= lastAckedSeq on arrival: acknowledged again but not applied again. */
  duplicate: boolean;
}

/** What connect() resolves with. */
export interface WelcomeInfo {
  clientId: string;
  /** Present only on first registration. */
  clientCredential?: string;
  license: AgentLicense;
  heartbeatIntervalMs: number;
}

export interface ErrorFrameInfo {
  code: string;
  message: string;
  retryAfterMs: number;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/** JSON-serialisable identity and progress of an agent (see toState / fromState). */
export interface AgentState {
  clientId: string;
  tenantId: string;
  credential?: string;
  /** The install's enrollment proof, kept with the client id (absent: none). */
  enrollmentProof?: string;
  lastAckedSeq: number;
  os: AgentOs;
  hostname: string;
  nonPersistent: boolean;
}

/** Events an Agent emits, with their arguments. */
export interface AgentEvents {
  /** A connection attempt opened its socket: connect(), or an automatic reconnect. */
  connecting: [];
  welcome: [WelcomeInfo];
  command: [AgentCommand];
  'error-frame': [ErrorFrameInfo];
  close: [CloseInfo];
  'heartbeat-ack': [{ serverTimeMs: number }];
  /** Local faults; emitted only when someone listens. */
  error: [Error];
}
