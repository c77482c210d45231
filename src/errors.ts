/**
 * The one catalogue of licensegate errors. Every error the product reports — to an agent in an
 * Error frame, to an admin service as a failed job, to an operator on the CLI — has a stable
 * `code` from this table. Tests assert on `code`, never on message text.
 *
 * `closeCode` is the WebSocket close code the gateway uses after sending the error to an agent
 * (RFC 6455 codes, or 4xxx application codes modelled on HTTP statuses); `httpStatus` is the
 * status the admin HTTP API answers with it (src/http/problem.ts, RFC 9457 problem details).
 */
export const ERRORS = {
  // --- handshake and authentication (SPEC C1, C2) ---
  HELLO_TIMEOUT: { closeCode: 4408, httpStatus: 408, message: 'no Hello received within the handshake timeout' },
  HELLO_REQUIRED: { closeCode: 1008, httpStatus: 400, message: 'the first frame must be Hello' },
  HELLO_REPEATED: { closeCode: 1008, httpStatus: 400, message: 'Hello may be sent only once per connection' },
  INVALID_HELLO: { closeCode: 1008, httpStatus: 400, message: 'Hello is missing or has an invalid field' },
  AUTH_FAILED: { closeCode: 4401, httpStatus: 401, message: 'authentication failed' },
  UNKNOWN_TENANT: { closeCode: 4404, httpStatus: 404, message: 'unknown tenant' },
  CLIENT_ALREADY_REGISTERED: { closeCode: 4409, httpStatus: 409, message: 'client id is already registered; connect with its credential' },
  CLIENT_IN_OTHER_TENANT: { closeCode: 4409, httpStatus: 409, message: 'client id is registered in another tenant' },
  ENROLLMENT_PENDING: { closeCode: 1013, httpStatus: 503, message: 'client id was just registered on a connection that is still open; retry after the hinted delay' },
  CLIENT_UNINSTALLED: { closeCode: 4410, httpStatus: 410, message: 'client was uninstalled; a reinstalled agent enrolls with a new client id' },
  // --- enrollment limits and identity (SPEC Z3); only after a valid enrollment token ---
  ENROLLMENT_PROOF_REQUIRED: { closeCode: 4401, httpStatus: 401, message: 'this tenant enrolls only agents that send Hello.enrollment_proof' },
  ENROLL_RATE_LIMITED: { closeCode: 1013, httpStatus: 429, message: "the tenant's enrollment rate limit is reached; retry after the hinted delay" },
  TENANT_CLIENT_LIMIT: { closeCode: 4403, httpStatus: 403, message: 'the tenant has as many Clients as its maxClients allows' },
  // --- connection life (SPEC C4, C5, C13) ---
  SUPERSEDED: { closeCode: 4000, httpStatus: 409, message: 'a newer connection of this client replaced this one' },
  HEARTBEAT_TIMEOUT: { closeCode: 4408, httpStatus: 408, message: 'no frame received within two heartbeat intervals' },
  UNINSTALLED: { closeCode: 1000, httpStatus: 410, message: 'client uninstalled' },
  SHUTTING_DOWN: { closeCode: 1001, httpStatus: 503, message: 'gateway is shutting down' },
  OVERLOADED: { closeCode: 1013, httpStatus: 503, message: 'gateway is overloaded; retry after the hinted delay' },
  // --- bad input (SPEC R2) ---
  MALFORMED_FRAME: { closeCode: 1007, httpStatus: 400, message: 'frame is not a valid protobuf ClientFrame' },
  EMPTY_FRAME: { closeCode: 1007, httpStatus: 400, message: 'frame has no body set' },
  UNKNOWN_ENUM_VALUE: { closeCode: 1007, httpStatus: 400, message: 'frame carries an enum value this gateway does not know' },
  TEXT_FRAME: { closeCode: 1003, httpStatus: 400, message: 'text frames are not accepted; send binary protobuf' },
  FRAME_TOO_LARGE: { closeCode: 1009, httpStatus: 413, message: 'frame exceeds the maximum payload size' },
  RATE_LIMITED: { closeCode: 1008, httpStatus: 429, message: 'too many frames; slow down' },
  INVALID_ACK: { closeCode: 1008, httpStatus: 400, message: 'CommandAck acknowledges a command that was never sent' },
  // --- abuse bounds (SPEC Z4); docs/abuse-limits.md ---
  TOO_MANY_UNAUTHENTICATED: { closeCode: 1013, httpStatus: 429, message: 'too many connections without a Hello from this address; retry after the hinted delay' },
  AUTH_BACKOFF: { closeCode: 4429, httpStatus: 429, message: 'too many failed authentications from this address; retry after the hinted delay' },
  SLOW_READER: { closeCode: 1008, httpStatus: 400, message: 'the connection does not read what is sent to it (send buffer over its limit)' },
  // --- licensing and admin (closeCode unused outside the gateway) ---
  CLIENT_NOT_FOUND: { closeCode: 1008, httpStatus: 404, message: 'no such client in this tenant' },
  USER_NOT_FOUND: { closeCode: 1008, httpStatus: 404, message: 'no such PAM user in this tenant' },
  USER_EXISTS: { closeCode: 1008, httpStatus: 409, message: 'a PAM user with this id or name exists' },
  TENANT_EXISTS: { closeCode: 1008, httpStatus: 409, message: 'a tenant with this id or name exists' },
  TENANT_NOT_EMPTY: { closeCode: 1008, httpStatus: 409, message: 'the tenant still holds licenses, Clients or PAM users; take them back, uninstall and purge first' },
  FORBIDDEN: { closeCode: 1008, httpStatus: 403, message: 'the actor lacks the permission or tenant for this' },
  MULTI_TENANT_NOT_ALLOWED: { closeCode: 1008, httpStatus: 409, message: 'no active serial key allows multi-tenant mode' },
  NOT_ENOUGH_LICENSES: { closeCode: 1008, httpStatus: 409, message: 'not enough licenses available' },
  LICENSES_IN_USE: { closeCode: 1008, httpStatus: 409, message: 'that many licenses are assigned; take back with force to unassign them' },
  NO_LICENSE_AVAILABLE: { closeCode: 1008, httpStatus: 409, message: 'no license of that type is available' },
  SERIAL_KEY_NOT_FOUND: { closeCode: 1008, httpStatus: 404, message: 'no serial key with that id' },
  INVALID_ARGUMENT: { closeCode: 1008, httpStatus: 422, message: 'invalid argument' },
  INVALID_JOB: { closeCode: 1008, httpStatus: 422, message: 'the job payload does not match its schema' },
  CLIENT_ALREADY_LICENSED: { closeCode: 1008, httpStatus: 409, message: 'the client already holds a license (one per client)' },
  LICENSE_TYPE_MISMATCH: { closeCode: 1008, httpStatus: 409, message: "the license type does not fit the client's OS; force it to override" },
  NO_MATCHING_TYPE: { closeCode: 1008, httpStatus: 409, message: "the client's OS matches no license type; name one and force it" },
  JOB_TIMEOUT: { closeCode: 1008, httpStatus: 504, message: 'the job did not finish in time; it may still run (retry with the same idempotency key)' },
  // --- serial keys (SPEC S1, S4); not WebSocket errors, the close code only satisfies the table ---
  SERIAL_KEY_INVALID: { closeCode: 1008, httpStatus: 422, message: 'serial key is invalid, altered, or not signed by a configured vendor key' },
  SERIAL_KEY_EXPIRED: { closeCode: 1008, httpStatus: 422, message: 'serial key has expired' },
  SERIAL_KEY_REMOVED: { closeCode: 1008, httpStatus: 409, message: 'serial key was removed' },
  VENDOR_KEYS_MISSING: { closeCode: 1008, httpStatus: 409, message: 'no vendor public keys are configured (VENDOR_PUBLIC_KEYS); serial keys cannot be verified' },
  // --- server side ---
  INTERNAL_ERROR: { closeCode: 1011, httpStatus: 500, message: 'internal error' },
  CONFIG_INVALID: { closeCode: 1011, httpStatus: 500, message: 'invalid configuration' },
  REDIS_UNAVAILABLE: { closeCode: 1011, httpStatus: 503, message: 'redis is unavailable' },
  STARTUP_FAILED: { closeCode: 1011, httpStatus: 500, message: 'start-up failed' },
  TLS_INVALID: { closeCode: 1011, httpStatus: 500, message: 'a TLS certificate, key or CA file cannot be used' },
  // --- admin HTTP API (SPEC H1, H2); docs/api.md ---
  UNAUTHENTICATED: { closeCode: 1008, httpStatus: 401, message: 'sign in or send a valid API token (Authorization: Bearer)' },
  CSRF_FAILED: { closeCode: 1008, httpStatus: 403, message: 'a session request that changes something needs the X-CSRF-Token header of that session' },
  ROUTE_NOT_FOUND: { closeCode: 1008, httpStatus: 404, message: 'no such API route' },
  METHOD_NOT_ALLOWED: { closeCode: 1008, httpStatus: 405, message: 'this route does not accept that method' },
  INVALID_REQUEST: { closeCode: 1008, httpStatus: 422, message: 'the request does not match its schema' },
  PAYLOAD_TOO_LARGE: { closeCode: 1009, httpStatus: 413, message: 'the request body is larger than the API accepts' },
  UNSUPPORTED_MEDIA_TYPE: { closeCode: 1003, httpStatus: 415, message: 'send the request body as application/json' },
  // --- admin accounts (SPEC H2, Z2); docs/accounts.md ---
  LOGIN_FAILED: { closeCode: 1008, httpStatus: 401, message: 'wrong name or password' },
  LOGIN_RATE_LIMITED: { closeCode: 1008, httpStatus: 429, message: 'too many failed logins for this account or from this address; retry after the hinted delay' },
  SETUP_TOKEN_INVALID: { closeCode: 1008, httpStatus: 401, message: 'the set-up link is unknown, used or expired; ask for a new one' },
  PASSWORD_POLICY: { closeCode: 1008, httpStatus: 422, message: 'a password has 12 to 256 characters' },
  ACCOUNT_EXISTS: { closeCode: 1008, httpStatus: 409, message: 'an account with this login name exists (names are case-insensitive)' },
  ACCOUNT_NOT_FOUND: { closeCode: 1008, httpStatus: 404, message: 'no such account' },
  API_TOKEN_NOT_FOUND: { closeCode: 1008, httpStatus: 404, message: 'no such API token' },
  LAST_ADMIN: { closeCode: 1008, httpStatus: 409, message: "the default tenant's last enabled account with every permission cannot be disabled or deleted" },
  API_UNAVAILABLE: { closeCode: 1011, httpStatus: 503, message: 'the licensegate admin API (--server) cannot be reached' },
  NOT_DURABLE: { closeCode: 1013, httpStatus: 503, message: 'the change could not be made durable in time (DURABILITY replicas did not acknowledge it); retry after the hinted delay' },
  CLIENT_INDEX_BUILDING: { closeCode: 1013, httpStatus: 503, message: "the tenant's Client paging index is still being built; retry after the hinted delay" },
} as const satisfies Record<string, { closeCode: number; httpStatus: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** A coded licensegate error. `detail` adds context to the catalogue message. */
export class LicensegateError extends Error {
  readonly code: ErrorCode;
  readonly closeCode: number;
  readonly httpStatus: number;
  readonly retryAfterMs: number;

  constructor(code: ErrorCode, detail?: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    const base = ERRORS[code].message;
    super(detail ? `${base}: ${detail}` : base, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LicensegateError';
    this.code = code;
    this.closeCode = ERRORS[code].closeCode;
    this.httpStatus = ERRORS[code].httpStatus;
    this.retryAfterMs = options.retryAfterMs ?? 0;
  }
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERRORS, value);
}

/** Wraps anything thrown into a LicensegateError (unknown faults become INTERNAL_ERROR). */
export function toLicensegateError(err: unknown): LicensegateError {
  if (err instanceof LicensegateError) return err;
  return new LicensegateError('INTERNAL_ERROR', undefined, { cause: err });
}
