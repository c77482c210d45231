/**
 * What the licensing pages (Serial Key Management, Licenses Granted, Tenants, Audit) share:
 * the permission names of SPEC A2, the license types of L1, plain-language meanings of the API's
 * error codes, and small formatting helpers. Everything here only reads; every change goes
 * through the admin API (console/src/api.ts).
 */
import type { ComponentChildren } from 'preact';
import { FieldErrors } from '../components/error-banner.tsx';

export { DEFAULT_TENANT } from '../session.ts';

/** The server's license types (SPEC L1; a dependency-free module the bundle includes). */
export { ALL_LICENSE_TYPES as LICENSE_TYPES, type LicenseTypeName as LicenseType } from '../../../src/licensing/license-types.ts';

const TYPE_LABELS: Record<string, string> = {
  workstation: 'Workstation',
  'terminal-server': 'Terminal server',
  'infrastructure-server': 'Infrastructure server',
  'cloud-server': 'Cloud server',
  linux: 'Linux',
  'pam-seat': 'PAM seat',
};

export function typeLabel(type: string): string {
  return TYPE_LABELS[type] ?? type;
}

/** What an error code means for the person at the console, and what to do about it. */
const MEANINGS: Record<string, string> = {
  SERIAL_KEY_INVALID:
    'This serial key is not valid: it was altered, truncated, or not signed by a vendor key this gateway trusts (VENDOR_PUBLIC_KEYS). Paste it again exactly as the vendor sent it; nothing was activated.',
  SERIAL_KEY_EXPIRED: 'This serial key has already expired; nothing was activated. Ask the vendor for a current key.',
  SERIAL_KEY_REMOVED: 'This serial key was removed earlier and cannot be activated again.',
  SERIAL_KEY_NOT_FOUND: 'No serial key with that id exists (it may have been removed meanwhile).',
  VENDOR_KEYS_MISSING: 'No vendor public keys are configured (VENDOR_PUBLIC_KEYS), so no serial key can be verified. Configure them and restart licensegate.',
  NOT_ENOUGH_LICENSES:
    'Not enough licenses of this type are available in the default tenant to grant that many. Activate another serial key, or take licenses back from another tenant first.',
  LICENSES_IN_USE:
    'The tenant has more of these licenses assigned to its Clients than would remain. Take back fewer, or choose "force" to unassign that many Clients (each receives StopMonitoring).',
  MULTI_TENANT_NOT_ALLOWED: 'No active serial key allows multi-tenant mode. Activate a key that allows it on Serial Key Management.',
  TENANT_EXISTS: 'A tenant with this name or id already exists. Choose another name (or id).',
  TENANT_NOT_EMPTY:
    'The tenant still holds licenses, Clients or PAM users. Take its licenses back (Licenses Granted), uninstall its Clients and remove its PAM users first; then delete it.',
  UNKNOWN_TENANT: 'That tenant does not exist (it may have been deleted meanwhile).',
  FORBIDDEN: 'Your account lacks the permission or the tenant for this. Nothing was changed.',
  CSRF_FAILED: 'The session check failed. Reload the page and try again.',
  INVALID_REQUEST: 'Some fields are not valid; see below.',
  INVALID_ARGUMENT: 'An argument is not valid.',
  JOB_TIMEOUT: 'No worker finished the change within 30 seconds. It may still happen: refresh in a moment before trying again.',
};

export function meaningOf(code: string): string | undefined {
  return MEANINGS[code];
}

interface ErrorLike {
  status?: number;
  code?: string;
  detail?: string;
  errors?: { path: string; message: string }[] | undefined;
  message?: string;
}

/** A problem answer, explained: the code, what it means, the server's detail, field errors. */
export function Problem({ error, label }: { error: unknown; label?: string }) {
  if (!error) return null;
  const e = error as ErrorLike;
  const code = e.code ?? 'ERROR';
  const meaning = meaningOf(code);
  return (
    <div class="lg-problem" role="alert" data-code={code}>
      <p>
        <strong>{label ? `${label}: ` : ''}</strong>
        <code>{code}</code> {meaning ?? e.detail ?? e.message ?? 'the request failed'}
      </p>
      {meaning && e.detail ? <p class="lg-problem-detail">Server said: {e.detail}</p> : null}
      <FieldErrors errors={e.errors} />
    </div>
  );
}


export function formatTime(ms: number): string {
  if (!ms) return '—';
  const d = new Date(ms);
  return d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
}

/** "12 days 3 h", "5 h 10 min", "40 s". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} day${d === 1 ? '' : 's'} ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min`;
  return `${s} s`;
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  const hid = id ? `${id}-title` : undefined;
  return (
    <section class="lg-section" aria-labelledby={hid}>
      <h2 id={hid}>{title}</h2>
      {children}
    </section>
  );
}
