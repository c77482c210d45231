/**
 * `#/overview`: the tenant at a glance (GET /tenants/{t}/overview): online now, licensed vs
 * waiting per type, enrollments over the last hour, the nearest key expiry with the 15-day and
 * 1-day warnings (S5), overload events (pools exhausted or crossing 85/90/99 %). Refreshed by
 * live events (license and pool changes) and every 15 s while the tab is visible; "Online now"
 * follows the stream's presence notices (their online count) without a reload.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Table, type Column } from '../components/table.tsx';
import { UsageBar } from '../components/usage-bar.tsx';
import { LIVE_EVENT_TYPES, subscribe, type LiveState } from '../live.ts';
import { isSystem } from '../session.ts';
import type { PageProps } from './page-props.ts';
// The server's answer types (type-only: erased from the bundle; a renamed field fails this typecheck).
import type { OverviewAnswer, OverviewTypeRow } from '../../../src/http/routes/overview-schema.ts';

export type TypeRow = OverviewTypeRow;
export type Overview = OverviewAnswer;

const POLL_MS = 15_000;

const fmtTime = (ms: number) => new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const fmtDate = (ms: number) => new Date(ms).toLocaleString('en-GB', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function countdown(expiresAt: number, now: number): string {
  const left = expiresAt - now;
  if (left <= 0) return 'expired';
  const days = Math.floor(left / 86_400_000);
  const hours = Math.floor((left % 86_400_000) / 3_600_000);
  if (days >= 1) return `${days} day${days === 1 ? '' : 's'}`;
  const minutes = Math.floor((left % 3_600_000) / 60_000);
  return `${hours} h ${minutes} min`;
}

function EnrollmentChart(p: { buckets: number[] }) {
  const max = Math.max(1, ...p.buckets);
  return (
    <div class="spark" aria-hidden="true" title="first-connect licenses per 5 minutes, oldest first">
      {p.buckets.map((b, i) => (
        <span key={i} class="spark-bar" style={{ height: `${Math.max(4, (b / max) * 100)}%` }} data-zero={b === 0 ? 'true' : undefined} />
      ))}
    </div>
  );
}

export function OverviewPage(p: PageProps) {
  const [data, setData] = useState<Overview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState<LiveState>('connecting');
  const [busy, setBusy] = useState(false);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const load = useCallback(async () => {
    setBusy(true);
    try {
      setData(await api.get<Overview>(`/tenants/${api.seg(p.tenantId)}/overview`));
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }, [p.tenantId]);

  useEffect(() => {
    void load();
    // Not while the tab is hidden: a forgotten tab must not keep the session from idling out.
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, POLL_MS);
    const onVisible = () => {
      if (document.visibilityState === 'visible') void load();
    };
    document.addEventListener('visibilitychange', onVisible);
    // Events come in bursts (a key activation promotes many Clients): one reload per second at most.
    const stop = subscribe(
      p.tenantId,
      LIVE_EVENT_TYPES,
      (ev) => {
        if (ev.type === 'presence') {
          const { online } = ev.data;
          setData((d) => d && { ...d, clients: { ...d.clients, online } });
          return;
        }
        if (pending.current) return;
        pending.current = setTimeout(() => {
          pending.current = undefined;
          void load();
        }, 1_000);
      },
      { onState: setLive, onGap: () => void load() },
    );
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
      if (pending.current) clearTimeout(pending.current);
      stop();
    };
  }, [load, p.tenantId]);

  const now = data?.at ?? Date.now();
  const endpoint = data ? data.types.filter((t) => t.type !== 'pam-seat') : [];
  const licensed = endpoint.reduce((a, t) => a + t.assigned, 0);
  const waiting = endpoint.reduce((a, t) => a + t.waiting, 0);
  const rows = data ? data.types.filter((t) => t.granted > 0 || t.assigned > 0 || t.waiting > 0) : [];
  const nearest = data?.keys.nearest ?? null;
  const keyClass = !nearest ? '' : nearest.level === 'expired' || nearest.level === 'warn1' ? 'bad' : nearest.level === 'warn15' ? 'warn' : '';
  const overloads = data ? data.overload.poolExhausted + data.overload.usageWarnings : 0;

  const columns: Column<TypeRow>[] = [
    { key: 'type', label: 'License type', sortable: true },
    { key: 'assigned', label: 'Licensed', sortable: true, align: 'right' },
    { key: 'waiting', label: 'Waiting', sortable: true, align: 'right' },
    { key: 'granted', label: p.tenantId === 'default' ? 'Total here' : 'Granted', sortable: true, align: 'right' },
    { key: 'available', label: 'Available', sortable: true, align: 'right' },
    { key: 'usage', label: 'Usage', render: (r) => <UsageBar used={r.assigned} total={r.granted} label={`${r.type} usage`} />, sortValue: (r) => (r.granted ? r.assigned / r.granted : 0) },
  ];

  return (
    <section aria-labelledby="overview-title">
      <div class="page-head">
        <h1 id="overview-title">Overview</h1>
        <p class="muted">
          Tenant <strong>{p.tenantId}</strong>
          {data ? ` · updated ${fmtTime(data.at)}` : ''} · <span class={`live live-${live}`}>{live === 'open' ? 'live' : live === 'connecting' ? 'connecting…' : 'live updates paused'}</span>
        </p>
        <button type="button" onClick={() => void load()} disabled={busy}>
          Refresh
        </button>
      </div>
      <ErrorBanner error={error} />
      {!data && !error && <p aria-busy="true">Loading…</p>}
      {data && (
        <>
          <div class="cards">
            <article class="card" aria-labelledby="card-online">
              <h2 id="card-online">Online now</h2>
              <p class="big" data-testid="online-now">
                {data.clients.online.toLocaleString('en')}
              </p>
              <p class="sub">of {data.clients.total.toLocaleString('en')} Clients registered</p>
            </article>
            <article class={`card ${waiting > 0 ? 'warn' : ''}`} aria-labelledby="card-licensed">
              <h2 id="card-licensed">Licensed vs waiting</h2>
              <p class="big">
                <span data-testid="licensed">{licensed.toLocaleString('en')}</span>
                <span class="vs"> / </span>
                <span data-testid="waiting">{waiting.toLocaleString('en')}</span>
              </p>
              <p class="sub">licensed Clients / Clients waiting for a license</p>
            </article>
            <article class="card" aria-labelledby="card-enrollments">
              <h2 id="card-enrollments">Enrollments, last hour</h2>
              <p class="big" data-testid="enrollments">
                {(data.enrollments.licensedAtFirstConnect + data.enrollments.startedWaiting).toLocaleString('en')}
                {data.enrollments.capped ? '+' : ''}
              </p>
              <p class="sub">
                {data.enrollments.licensedAtFirstConnect} licensed at first connect, {data.enrollments.startedWaiting} began waiting
              </p>
              <EnrollmentChart buckets={data.enrollments.buckets} />
            </article>
            <article class={`card ${keyClass}`} aria-labelledby="card-keys">
              <h2 id="card-keys">Key expiry</h2>
              {nearest ? (
                <>
                  <p class="big" data-testid="key-expiry">
                    {countdown(nearest.expiresAt, now)}
                  </p>
                  <p class="sub">
                    {nearest.level === 'warn1' && <strong>Expires within a day. </strong>}
                    {nearest.level === 'warn15' && <strong>Expires within 15 days. </strong>}
                    {nearest.level === 'expired' && <strong>Expired. </strong>}
                    Nearest: <code>{nearest.keyId}</code> on {fmtDate(nearest.expiresAt)}
                    {data.keys.within15Days > 1 ? ` · ${data.keys.within15Days} keys within 15 days` : ''}
                  </p>
                </>
              ) : (
                <>
                  <p class="big" data-testid="key-expiry">
                    {data.keys.count > 0 ? 'none' : '—'}
                  </p>
                  <p class="sub">{data.keys.count > 0 ? `${data.keys.count} key(s), none expires` : 'No serial key gives this tenant licenses yet.'}</p>
                </>
              )}
            </article>
            <article class={`card ${data.overload.poolExhausted > 0 ? 'bad' : data.overload.usageWarnings > 0 ? 'warn' : ''}`} aria-labelledby="card-overload">
              <h2 id="card-overload">Overload, last 24 h</h2>
              <p class="big" data-testid="overload">
                {overloads.toLocaleString('en')}
                {data.overload.capped ? '+' : ''}
              </p>
              <p class="sub">
                {data.overload.poolExhausted} pool exhausted, {data.overload.usageWarnings} over 85/90/99 %
                {data.overload.last
                  ? ` · last: ${data.overload.last.licenseType || 'pool'} ${data.overload.last.type === 'pool.exhausted' ? 'exhausted' : `at ${data.overload.last.percent ?? '?'} %`} at ${fmtTime(data.overload.last.ts)}`
                  : ''}
              </p>
            </article>
          </div>
          <Table
            caption="Licenses by type"
            columns={columns}
            rows={rows}
            rowKey={(r) => r.type}
            sort={null}
            empty={
              <>
                No licenses in this tenant yet.{' '}
                {isSystem(p.session) ? (
                  <a href="#/keys">Activate a serial key</a>
                ) : (
                  'Ask the technician to grant licenses to this tenant.'
                )}
              </>
            }
          />
        </>
      )}
    </section>
  );
}
