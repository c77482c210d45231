/**
 * Failed authentications in the audit trail (SPEC Z3), bounded: a node tallies refused Hellos
 * per tenant and writes one audit entry per tenant per window (count, codes, a few source
 * addresses) — never one per failure, so a flood of bad Hellos costs one XADD per tenant per
 * window, and never a secret (the Hello's token, credential or proof are not in what is
 * tallied). Refusals not attributable to an existing tenant (an unknown tenant, a client id
 * registered in another tenant) go, as one entry, to the default tenant's trail (its admins run
 * the system): a peer inventing tenant ids creates no keys and hides no tenant's entry.
 *
 * Best effort by design: the tally lives in this process, so a node that stops loses its last
 * window (every refusal is also in the server log, at info).
 */
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors.ts';
import type { RedisClient } from '../store/redis-connection.ts';
import { DEFAULT_TENANT, type Keys } from '../store/keys.ts';

export const DEFAULT_AUTH_AUDIT_WINDOW_MS = 10_000;
/** Source addresses kept per tenant and window. */
const MAX_SOURCES = 5;
/** Tenants tallied per window (a safety net: only existing tenants get a tally); refusals beyond go to the unknown-tenant tally. */
const MAX_TENANTS = 1_000;
/** The tally of refusals whose tenant does not exist (or is beyond MAX_TENANTS). */
const NO_TENANT = '';

/** Hello refusals that count: authentication failed, or an enrollment was refused (Z3). */
export const AUDITED_REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'AUTH_FAILED', 'UNKNOWN_TENANT', 'CLIENT_IN_OTHER_TENANT', 'ENROLLMENT_PROOF_REQUIRED', 'ENROLL_RATE_LIMITED', 'TENANT_CLIENT_LIMIT',
]);

interface Tally {
  count: number;
  codes: Map<string, number>;
  sources: Set<string>;
  since: number;
}

function merge(into: Map<string, Tally>, key: string, t: Tally): void {
  const m = into.get(key);
  if (!m) {
    into.set(key, t);
    return;
  }
  m.count += t.count;
  m.since = Math.min(m.since, t.since);
  for (const [c, n] of t.codes) m.codes.set(c, (m.codes.get(c) ?? 0) + n);
  for (const s of t.sources) if (m.sources.size < MAX_SOURCES) m.sources.add(s);
}

export class FailedAuthAudit {
  private tallies = new Map<string, Tally>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly log: Logger,
    private readonly windowMs = DEFAULT_AUTH_AUDIT_WINDOW_MS,
  ) {}

  /** Counts one refused Hello (O(1), no I/O); codes outside AUDITED_REFUSALS are ignored. */
  record(tenantId: string, code: ErrorCode, source: string, now = Date.now()): void {
    if (!AUDITED_REFUSALS.has(code)) return;
    // Only codes from the Hello script prove the tenant exists; CLIENT_IN_OTHER_TENANT is
    // decided before, so a peer naming invented tenants never takes a tenant's tally slot.
    let key = code === 'UNKNOWN_TENANT' || code === 'CLIENT_IN_OTHER_TENANT' ? NO_TENANT : tenantId;
    if (!this.tallies.has(key) && this.tallies.size >= MAX_TENANTS) key = NO_TENANT;
    let t = this.tallies.get(key);
    if (!t) {
      t = { count: 0, codes: new Map(), sources: new Set(), since: now };
      this.tallies.set(key, t);
    }
    t.count++;
    t.codes.set(code, (t.codes.get(code) ?? 0) + 1);
    if (source !== '' && t.sources.size < MAX_SOURCES) t.sources.add(source);
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush().catch((err: unknown) => this.log.error({ err }, 'could not audit failed authentications'));
      }, this.windowMs);
      this.timer.unref();
    }
  }

  /**
   * Writes one audit entry per tallied tenant that exists, and one for all the others, and
   * starts a new window.
   */
  async flush(now = Date.now()): Promise<void> {
    const tallies = this.tallies;
    this.tallies = new Map();
    // A tenant may be named by a refusal that does not prove it exists (CLIENT_IN_OTHER_TENANT
    // is decided before the tenant is looked at): only existing tenants get their own entry,
    // the rest are merged into the one unknown-tenant entry.
    const entries = new Map<string, Tally>();
    for (const [tenantId, t] of tallies) {
      const exists = tenantId !== NO_TENANT && (await this.redis.exists(this.keys.tenant(tenantId))) === 1;
      merge(entries, exists ? tenantId : NO_TENANT, t);
    }
    for (const [tenantId, t] of entries) {
      const codes = [...t.codes].map(([c, n]) => `${c}=${n}`).join(',');
      const sources = [...t.sources].join(',');
      const exists = tenantId !== NO_TENANT;
      const trail = exists ? tenantId : DEFAULT_TENANT;
      const reason = `${t.count} refused Hello${t.count === 1 ? '' : 's'} in ${Math.round((now - t.since) / 1000)} s${exists ? '' : ' not attributed to an existing tenant'}: ${codes}${sources ? `; sources ${sources}` : ''}`;
      await this.redis.xadd(this.keys.audit(trail), '*',
        'ts', now, 'holder', '', 'holderKind', '', 'type', '', 'action', 'auth-failed', 'before', '', 'after', '',
        'reason', reason, 'actor', 'system', 'cause', 'hello', 'count', t.count, 'codes', codes, 'sources', sources, 'since', t.since);
      this.log.warn({ tenant: exists ? tenantId : undefined, count: t.count, codes, sources }, 'failed authentications audited');
    }
  }

  /** Stops the window timer (the tally is dropped). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
