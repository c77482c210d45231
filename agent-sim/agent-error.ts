/**
 * How an agent classifies what the gateway tells it: which Error codes end reconnecting, which
 * mean "uninstalled", and the AgentError that connect() rejects with.
 */
import type { ErrorFrameInfo } from './agent-types.ts';

/** Error codes after which a reconnecting agent gives up (another agent took over, or it is gone). */
export const NO_RECONNECT_CODES: ReadonlySet<string> = new Set(['SUPERSEDED', 'CLIENT_UNINSTALLED', 'UNINSTALLED', 'TENANT_CLIENT_LIMIT', 'ENROLLMENT_PROOF_REQUIRED']);

/** Error codes that tell the agent its Client is uninstalled: it behaves as after an Uninstall command. */
export const UNINSTALLED_CODES: ReadonlySet<string> = new Set(['CLIENT_UNINSTALLED', 'UNINSTALLED']);

/** Why connect() failed: a server Error code, or CONNECTION_CLOSED / HANDSHAKE_TIMEOUT / CONNECTION_CLOSING. */
export class AgentError extends Error {
  readonly code: string;
  /** The server's retry_after_ms hint; 0 when none. */
  readonly retryAfterMs: number;
  /** WebSocket close code, when the connection had closed. */
  readonly closeCode: number | undefined;

  constructor(code: string, message: string, options: { retryAfterMs?: number; closeCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    this.code = code;
    this.retryAfterMs = options.retryAfterMs ?? 0;
    this.closeCode = options.closeCode;
  }
}

/** The AgentError for a server Error frame (with the close code once the socket has closed). */
export function frameError(e: ErrorFrameInfo, closeCode?: number): AgentError {
  return new AgentError(e.code, `${e.code}: ${e.message}`, { retryAfterMs: e.retryAfterMs, closeCode });
}
