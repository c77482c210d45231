/**
 * Who calls the admin HTTP API (SPEC H2). An account belongs to one tenant and holds A2's named
 * permissions; every request that needs an account is authenticated on the server, and the
 * principal's actor is what the admin jobs it causes record (A2, A5).
 */
import type { IncomingMessage } from 'node:http';
import type { Actor } from '../licensing/permissions.ts';

export interface Principal {
  /** The account's id (stable; the login name may differ). */
  accountId: string;
  /** What jobs run as: userId is the account id, tenantId its tenant, permissions its permissions. */
  actor: Actor;
  /** How it authenticated: a session cookie (browser; CSRF-checked) or a bearer API token. */
  via: 'session' | 'token';
}

/**
 * Turns a request into its principal. `null`: the request carries no credential at all.
 * Throws LicensegateError UNAUTHENTICATED for a wrong, expired or revoked credential, and
 * CSRF_FAILED for a session request with an unsafe method and no matching X-CSRF-Token.
 */
export interface Authenticator {
  authenticate(req: IncomingMessage, sourceAddress: string): Promise<Principal | null>;
}
