/**
 * The agent's reconnect policy after a close: give up on the codes in NO_RECONNECT_CODES,
 * otherwise wait a full-jitter backoff delay (./backoff.ts), honouring the server's
 * retry_after_ms hint.
 */
import { retryDelay, type BackoffOptions } from './backoff.ts';
import { NO_RECONNECT_CODES } from './agent-error.ts';
import type { ErrorFrameInfo } from './agent-types.ts';

/** Delay before reconnect attempt `attempt`, or null when the connection's Error says not to reconnect. */
export function reconnectDelay(connError: ErrorFrameInfo | null, attempt: number, backoff: BackoffOptions): number | null {
  if (connError && NO_RECONNECT_CODES.has(connError.code)) return null;
  return retryDelay(attempt, backoff, connError?.retryAfterMs ?? 0);
}
