/**
 * Serial Key Management (SPEC H5, S1–S5): availability per license type with usage bars (85/90/99 %
 * marks), the serial keys with their expiry countdown and the 15-day / 1-day warnings, activation
 * by pasting a key, and removal with a confirmation that says how many licenses go. For the
 * default tenant's accounts (the API refuses these reads to other tenants).
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Confirm } from '../components/confirm.tsx';
import { UsageBar } from '../components/usage-bar.tsx';
import { subscribe } from '../live.ts';
import type { PageProps } from './page-props.ts';
// The server's answer types (type-only: erased from the bundle; a renamed field fails this typecheck).
import type { AvailabilityAnswer, SerialKeyAnswer } from '../../../src/http/routes/serial-key-schemas.ts';
import { PERMISSIONS, can } from '../session.ts';
import { DEFAULT_TENANT, Problem, Section, formatDuration, formatTime, typeLabel } from './licensing-common.tsx';

export type AvailabilityRow = AvailabilityAnswer;
export type SerialKeyRow = SerialKeyAnswer;

const DAY = 86_400_000;

/** The S5 warning level of a key: 1 day and 15 days before its expiry. */
export function expiryWarning(expiresAt: number | null, now: number): 'expired' | 'day' | 'fortnight' | null {
  if (expiresAt === null) return null;
  const left = expiresAt - now;
  if (left <= 0) return 'expired';
  if (left <= DAY) return 'day';
  if (left <= 15 * DAY) return 'fortnight';
  return null;
}

function licenseCount(k: SerialKeyRow): number {
  return Object.values(k.payload.licenses).reduce((a, b) => a + b, 0);
}

function licenseList(k: SerialKeyRow): string {
  return Object.entries(k.payload.licenses)
    .filter(([, n]) => n > 0)
    .map(([t, n]) => `${typeLabel(t)} ${n}`)
    .join(', ');
}

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

function Expiry({ k, now }: { k: SerialKeyRow; now: number }) {
  if (k.status === 'expired' || k.status === 'removed') {
    return <span>{k.status === 'expired' ? 'expired' : 'removed'} {k.endedAt ? formatTime(k.endedAt) : ''}</span>;
  }
  if (!k.payload.expiresAt) {
    return <span>never (perpetual){k.payload.supportUntil ? `; support until ${k.payload.supportUntil.slice(0, 10)}` : ''}</span>;
  }
  const exp = Date.parse(k.payload.expiresAt);
  const w = expiryWarning(exp, now);
  const when = formatTime(exp);
  if (w === 'expired') return <span class="lg-warn lg-warn-critical">expiring now ({when})</span>;
  if (w === 'day')
    return (
      <span class="lg-warn lg-warn-critical" data-warning="1-day">
        <strong>Expires within 1 day</strong>: in {formatDuration(exp - now)} ({when})
      </span>
    );
  if (w === 'fortnight')
    return (
      <span class="lg-warn lg-warn-soon" data-warning="15-day">
        <strong>Expires within 15 days</strong>: in {formatDuration(exp - now)} ({when})
      </span>
    );
  return (
    <span>
      in {formatDuration(exp - now)} ({when})
    </span>
  );
}

export function KeysPage({ session }: PageProps) {
  const isDefault = session.account.tenantId === DEFAULT_TENANT;
  const canManage = isDefault && can(session, PERMISSIONS.tenants);
  const [rows, setRows] = useState<AvailabilityRow[] | null>(null);
  const [keys, setKeys] = useState<SerialKeyRow[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [keyText, setKeyText] = useState('');
  const [busy, setBusy] = useState(false);
  const [actError, setActError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const [removing, setRemoving] = useState<SerialKeyRow | null>(null);
  const now = useNow(30_000);

  async function load(): Promise<void> {
    try {
      const [a, k] = await Promise.all([api.get<AvailabilityRow[]>('/licenses'), api.get<SerialKeyRow[]>('/serial-keys')]);
      setRows(a);
      setKeys(k);
      setLoadError(null);
    } catch (err) {
      setLoadError(err);
    }
  }

  useEffect(() => {
    if (!isDefault) return;
    void load();
    // Live (H3): licenses assigned or freed in the default tenant and key changes refresh the counts (batched).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const later = () => {
      clearTimeout(timer);
      timer = setTimeout(() => void load(), 250);
    };
    const stop = subscribe(DEFAULT_TENANT, ['license.assigned', 'license.unassigned', 'key.activated', 'key.expiring', 'key.expired', 'key.removed'], later, { onGap: later });
    return () => {
      clearTimeout(timer);
      stop();
    };
  }, [isDefault]);

  if (!isDefault) {
    return (
      <div class="lg-page">
        <h1>Serial Key Management</h1>
        <p>
          Serial keys and the license availability they give belong to the default tenant: only its administrators (with the Tenant Management and System
          Configuration permission) see and manage them. Your tenant's licenses are on the <a href="#/granted">Licenses Granted</a> page.
        </p>
      </div>
    );
  }

  async function activate(ev: Event): Promise<void> {
    ev.preventDefault();
    setBusy(true);
    setActError(null);
    setNotice('');
    try {
      const r = await api.post<{ keyId: string; status: string; expiredTrials: string[] }>('/serial-keys', { key: keyText.trim() });
      setKeyText('');
      setNotice(
        r.status === 'ALREADY_ACTIVE'
          ? `Key ${r.keyId} was already active: nothing changed.`
          : `Key ${r.keyId} activated.${r.expiredTrials.length ? ` Trial keys ended by this purchase: ${r.expiredTrials.join(', ')}.` : ''}`,
      );
      await load();
    } catch (err) {
      setActError(err);
    } finally {
      setBusy(false);
    }
  }

  async function remove(k: SerialKeyRow): Promise<void> {
    setRemoving(null);
    setActError(null);
    setNotice('');
    try {
      const r = await api.del<{ keyId: string; lost: number }>(`/serial-keys/${encodeURIComponent(k.payload.keyId)}`);
      setNotice(`Key ${r.keyId} removed: its ${licenseCount(k)} licenses were withdrawn; ${r.lost} holder${r.lost === 1 ? '' : 's'} lost a license (StopMonitoring sent).`);
      await load();
    } catch (err) {
      setActError(err);
    }
  }

  const shown = (keys ?? []).slice().sort((a, b) => b.activatedAt - a.activatedAt);

  return (
    <div class="lg-page">
      <h1>Serial Key Management</h1>
      {loadError ? <Problem error={loadError} label="Could not load" /> : null}
      {notice ? (
        <p class="lg-notice" role="status">
          {notice}
        </p>
      ) : null}
      <Section title="Availability" id="availability">
        <p class="lg-help">
          <strong>Total</strong> comes from the active serial keys; <strong>granted</strong> is what other tenants were given; <strong>assigned</strong>{' '}
          counts the <em>default tenant's</em> Clients and PAM users only (other tenants' use is inside their grant, see Licenses Granted);{' '}
          <strong>available</strong> = total − granted − assigned. Bars mark 85 %, 90 % and 99 % use.
        </p>
        <div class="lg-scroll">
          <table class="lg-table" id="availability-table">
            <caption class="lg-sr-only">License availability per type</caption>
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col" class="num">Total</th>
                <th scope="col" class="num">Granted</th>
                <th scope="col" class="num">
                  Assigned <span class="lg-sub">(default tenant)</span>
                </th>
                <th scope="col" class="num">Available</th>
                <th scope="col">Usage</th>
              </tr>
            </thead>
            <tbody>
              {(rows ?? []).map((r) => (
                <tr key={r.type} data-type={r.type}>
                  <th scope="row">{typeLabel(r.type)}</th>
                  <td class="num" data-col="total">{r.total}</td>
                  <td class="num" data-col="granted">{r.granted}</td>
                  <td class="num" data-col="assigned">{r.assigned}</td>
                  <td class="num" data-col="available">{r.available}</td>
                  <td>
                    <UsageBar used={r.granted + r.assigned} total={r.total} label={`${typeLabel(r.type)} usage`} />
                  </td>
                </tr>
              ))}
              {rows === null && !loadError ? (
                <tr>
                  <td colSpan={6}>Loading…</td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </div>
      </Section>

      <Section title="Serial keys" id="serial-keys">
        {keys && keys.length === 0 ? <p>No serial key has been activated yet: no licenses exist. Paste the key your vendor sent below.</p> : null}
        {keys && keys.length > 0 ? (
          <div class="lg-scroll">
            <table class="lg-table" id="keys-table">
              <caption class="lg-sr-only">Serial keys</caption>
              <thead>
                <tr>
                  <th scope="col">Key id</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Status</th>
                  <th scope="col">Licenses</th>
                  <th scope="col">Expiry</th>
                  <th scope="col" class="lg-wide">Multi-tenant</th>
                  <th scope="col" class="lg-wide">Activated</th>
                  {canManage ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {shown.map((k) => (
                  <tr key={k.payload.keyId} data-key={k.payload.keyId}>
                    <th scope="row">
                      <code>{k.payload.keyId}</code>
                      <div class="lg-sub">{k.payload.edition}</div>
                    </th>
                    <td>{k.payload.kind}</td>
                    <td>{k.status}</td>
                    <td>{licenseList(k) || '—'}</td>
                    <td>
                      <Expiry k={k} now={now} />
                    </td>
                    <td class="lg-wide">{k.payload.multiTenant ? 'allowed' : 'no'}</td>
                    <td class="lg-wide">{formatTime(k.activatedAt)}</td>
                    {canManage ? (
                      <td>
                        {k.status === 'active' ? (
                          <button type="button" class="lg-danger" onClick={() => setRemoving(k)} aria-label={`Remove key ${k.payload.keyId}`}>
                            Remove
                          </button>
                        ) : null}
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Section>

      {canManage ? (
        <Section title="Activate a serial key" id="activate">
          <form onSubmit={(e) => void activate(e)} class="lg-form">
            <label for="serial-key-text">Serial key (paste it as received; line breaks and spaces are ignored)</label>
            <textarea
              id="serial-key-text"
              name="key"
              rows={4}
              spellcheck={false}
              autocomplete="off"
              value={keyText}
              onInput={(e) => setKeyText((e.currentTarget as HTMLTextAreaElement).value)}
              placeholder="LG1.…"
            />
            <div>
              <button type="submit" disabled={busy || keyText.trim().length < 8}>
                {busy ? 'Activating…' : 'Activate'}
              </button>
            </div>
          </form>
          {actError ? <Problem error={actError} label="Not done" /> : null}
        </Section>
      ) : actError ? (
        <Problem error={actError} />
      ) : null}

      <Confirm
        open={removing !== null}
        title={removing ? `Remove serial key ${removing.payload.keyId}?` : ''}
        danger
        busy={busy}
        confirmLabel={removing ? `Remove key and its ${licenseCount(removing)} licenses` : 'Remove'}
        onCancel={() => setRemoving(null)}
        onConfirm={() => removing && void remove(removing)}
      >
        {removing ? (
          <p id="remove-desc">
            This key provides <strong>{licenseCount(removing)} licenses</strong> ({licenseList(removing)}). Removing it withdraws all {licenseCount(removing)}{' '}
            now: their holders move to another key with room if there is one; the others lose their license, receive StopMonitoring and wait for one. Grants
            to tenants that came from it are withdrawn too. A removed key cannot be activated again.
          </p>
        ) : null}
      </Confirm>
    </div>
  );
}
