/**
 * Licenses Granted (SPEC T5, T3, T4): per tenant and license type, granted / assigned / available;
 * grant and take back (with the `force` choice explained). Only in multi-tenant mode: without an
 * active serial key that allows it the page says so. Tenant admins see their own tenant's rows;
 * only the default tenant's Tenant Management accounts grant and take back (T2).
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Confirm } from '../components/confirm.tsx';
import type { PageProps } from './page-props.ts';
// The server's answer types (type-only: erased from the bundle; a renamed field fails this typecheck).
import type { TenantInfoAnswer as TenantInfo } from '../../../src/http/routes/schemas.ts';
import type { SerialKeyRow } from './keys-page.tsx';
import { canManageSystem } from '../session.ts';
import { DEFAULT_TENANT, LICENSE_TYPES, Problem, Section, typeLabel } from './licensing-common.tsx';

interface GrantedRow {
  tenant: string;
  type: string;
  granted: number;
  assigned: number;
  available: number;
}

type Mode = 'loading' | 'multi' | 'single';

export function GrantedPage({ session }: PageProps) {
  const isDefault = session.account.tenantId === DEFAULT_TENANT;
  const canChange = canManageSystem(session);
  const [mode, setMode] = useState<Mode>(isDefault ? 'loading' : 'multi');
  const [rows, setRows] = useState<GrantedRow[] | null>(null);
  const [tenants, setTenants] = useState<TenantInfo[]>([]);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [showEmpty, setShowEmpty] = useState(false);
  const [notice, setNotice] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [grantForm, setGrantForm] = useState({ tenant: '', type: 'workstation', count: 1 });
  const [backForm, setBackForm] = useState({ tenant: '', type: 'workstation', count: 1, force: false });
  const [confirmForce, setConfirmForce] = useState(false);

  async function load(): Promise<void> {
    try {
      if (isDefault) {
        const keys = await api.get<SerialKeyRow[]>('/serial-keys');
        const multi = keys.some((k) => k.status === 'active' && k.payload.multiTenant);
        setMode(multi ? 'multi' : 'single');
      }
      const [g, t] = await Promise.all([api.get<GrantedRow[]>('/licenses-granted'), api.get<TenantInfo[]>('/tenants')]);
      setRows(g);
      const others = t.filter((x) => x.id !== DEFAULT_TENANT);
      setTenants(others);
      const first = others[0]?.id ?? '';
      setGrantForm((f) => (f.tenant && others.some((x) => x.id === f.tenant) ? f : { ...f, tenant: first }));
      setBackForm((f) => (f.tenant && others.some((x) => x.id === f.tenant) ? f : { ...f, tenant: first }));
      setLoadError(null);
    } catch (err) {
      setLoadError(err);
    }
  }

  useEffect(() => {
    void load();
  }, []);

  async function grant(ev: Event): Promise<void> {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    setNotice('');
    try {
      const r = await api.post<{ tenantId: string; type: string; granted: number; promoted: string[] }>(`/tenants/${encodeURIComponent(grantForm.tenant)}/grants`, {
        type: grantForm.type,
        count: grantForm.count,
      });
      setNotice(
        `Granted ${grantForm.count} ${typeLabel(r.type)} to ${r.tenantId} (now ${r.granted} granted).${r.promoted.length ? ` ${r.promoted.length} waiting Client(s) got a license at once.` : ''}`,
      );
      await load();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function takeBack(): Promise<void> {
    setConfirmForce(false);
    setBusy(true);
    setError(null);
    setNotice('');
    try {
      const r = await api.post<{ tenantId: string; type: string; takenBack: number; unassigned: string[] }>(`/tenants/${encodeURIComponent(backForm.tenant)}/take-back`, {
        type: backForm.type,
        count: backForm.count,
        force: backForm.force,
      });
      setNotice(
        `Took back ${r.takenBack} ${typeLabel(r.type)} from ${r.tenantId}.${
          r.unassigned.length ? ` ${r.unassigned.length} Client(s) lost their license and were sent StopMonitoring: ${r.unassigned.join(', ')}.` : ' No Client lost its license.'
        }`,
      );
      await load();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  function submitTakeBack(ev: Event): void {
    ev.preventDefault();
    if (backForm.force) setConfirmForce(true);
    else void takeBack();
  }

  if (mode === 'single') {
    return (
      <div class="lg-page">
        <h1>Licenses Granted</h1>
        <p class="lg-notice" role="status" id="multi-tenant-off">
          Multi-tenant mode is off: no active serial key allows it, so all licenses stay with the default tenant and nothing can be granted to other
          tenants. Activate a serial key that allows multi-tenant mode on <a href="#/keys">Serial Key Management</a> to create tenants and grant them
          licenses.
        </p>
        {loadError ? <Problem error={loadError} label="Could not load" /> : null}
      </div>
    );
  }

  const visible = (rows ?? []).filter((r) => (isDefault ? r.tenant !== DEFAULT_TENANT : true)).filter((r) => showEmpty || r.granted > 0 || r.assigned > 0);
  const backRow = (rows ?? []).find((r) => r.tenant === backForm.tenant && r.type === backForm.type);
  const wouldUnassign = backRow ? Math.max(0, backForm.count - backRow.available) : 0;

  return (
    <div class="lg-page">
      <h1>Licenses Granted</h1>
      <p class="lg-help">
        Licenses the technician gave each tenant, per type: <strong>granted</strong> to the tenant, <strong>assigned</strong> to its Clients and PAM users,{' '}
        <strong>available</strong> = granted − assigned. Licenses never move between tenants by themselves.
        {isDefault ? ' The default tenant\u2019s own pool is on Serial Key Management.' : ''}
      </p>
      {loadError ? <Problem error={loadError} label="Could not load" /> : null}
      {notice ? (
        <p class="lg-notice" role="status" id="granted-notice">
          {notice}
        </p>
      ) : null}
      {error ? <Problem error={error} label="Not done" /> : null}

      <Section title="Per tenant and type" id="granted">
        <p>
          <button type="button" onClick={() => void load()}>
            Refresh
          </button>{' '}
          <span class="lg-help">Counts as of loading; Clients of the tenants keep connecting meanwhile.</span>
        </p>
        <label class="lg-check">
          <input type="checkbox" checked={showEmpty} onChange={(e) => setShowEmpty((e.currentTarget as HTMLInputElement).checked)} /> Show types with nothing granted
        </label>
        <div class="lg-scroll">
          <table class="lg-table" id="granted-table" data-loaded={rows !== null ? 'true' : 'false'}>
            <caption class="lg-sr-only">Licenses granted per tenant and type</caption>
            <thead>
              <tr>
                <th scope="col">Tenant</th>
                <th scope="col">Type</th>
                <th scope="col" class="num">Granted</th>
                <th scope="col" class="num">Assigned</th>
                <th scope="col" class="num">Available</th>
              </tr>
            </thead>
            <tbody>
              {visible.map((r) => (
                <tr key={`${r.tenant}|${r.type}`} data-tenant={r.tenant} data-type={r.type}>
                  <th scope="row">{r.tenant}</th>
                  <td>{typeLabel(r.type)}</td>
                  <td class="num" data-col="granted">{r.granted}</td>
                  <td class="num" data-col="assigned">{r.assigned}</td>
                  <td class="num" data-col="available">{r.available}</td>
                </tr>
              ))}
              {rows !== null && visible.length === 0 ? (
                <tr>
                  <td colSpan={5}>{tenants.length === 0 && isDefault ? 'No tenants yet: create one on the Tenants page.' : 'Nothing granted yet.'}</td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </div>
      </Section>

      {canChange && tenants.length > 0 ? (
        <div class="lg-columns">
          <Section title="Grant licenses" id="grant">
            <form class="lg-form" onSubmit={(e) => void grant(e)}>
              <label for="grant-tenant">Tenant</label>
              <select id="grant-tenant" value={grantForm.tenant} onChange={(e) => setGrantForm({ ...grantForm, tenant: (e.currentTarget as HTMLSelectElement).value })}>
                {tenants.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name} ({t.id})
                  </option>
                ))}
              </select>
              <label for="grant-type">Type</label>
              <select id="grant-type" value={grantForm.type} onChange={(e) => setGrantForm({ ...grantForm, type: (e.currentTarget as HTMLSelectElement).value })}>
                {LICENSE_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {typeLabel(t)}
                  </option>
                ))}
              </select>
              <label for="grant-count">Count</label>
              <input
                id="grant-count"
                type="number"
                min={1}
                max={1000000}
                required
                value={grantForm.count}
                onInput={(e) => setGrantForm({ ...grantForm, count: Number((e.currentTarget as HTMLInputElement).value) })}
              />
              <p class="lg-help">Taken from the default tenant's available licenses of that type. Waiting Clients of the tenant get them at once.</p>
              <div>
                <button type="submit" disabled={busy || !grantForm.tenant || grantForm.count < 1}>
                  Grant
                </button>
              </div>
            </form>
          </Section>

          <Section title="Take back licenses" id="take-back">
            <form class="lg-form" onSubmit={submitTakeBack}>
              <label for="back-tenant">Tenant</label>
              <select id="back-tenant" value={backForm.tenant} onChange={(e) => setBackForm({ ...backForm, tenant: (e.currentTarget as HTMLSelectElement).value })}>
                {tenants.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name} ({t.id})
                  </option>
                ))}
              </select>
              <label for="back-type">Type</label>
              <select id="back-type" value={backForm.type} onChange={(e) => setBackForm({ ...backForm, type: (e.currentTarget as HTMLSelectElement).value })}>
                {LICENSE_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {typeLabel(t)}
                  </option>
                ))}
              </select>
              <label for="back-count">Count</label>
              <input
                id="back-count"
                type="number"
                min={1}
                max={1000000}
                required
                value={backForm.count}
                onInput={(e) => setBackForm({ ...backForm, count: Number((e.currentTarget as HTMLInputElement).value) })}
              />
              <label class="lg-check" for="back-force">
                <input id="back-force" type="checkbox" checked={backForm.force} aria-describedby="force-help" onChange={(e) => setBackForm({ ...backForm, force: (e.currentTarget as HTMLInputElement).checked })} />{' '}
                Force: unassign licenses in use if needed
              </label>
              <p class="lg-help" id="force-help">
                Without force, taking back more than the tenant has available is refused (LICENSES_IN_USE) and nothing changes. With force, the missing
                licenses are unassigned from that many of the tenant's Clients — longest offline first, then least recently seen — and each of those
                Clients receives <strong>StopMonitoring</strong> at once (an offline one when it next connects).
                {backRow ? ` ${backForm.tenant} has ${backRow.available} ${typeLabel(backForm.type)} available` : ''}
                {backRow && wouldUnassign > 0 ? `: this take-back would unassign ${wouldUnassign} Client(s).` : backRow ? '.' : ''}
              </p>
              <div>
                <button type="submit" class={backForm.force ? 'lg-danger' : ''} disabled={busy || !backForm.tenant || backForm.count < 1}>
                  {backForm.force ? 'Take back (force)…' : 'Take back'}
                </button>
              </div>
            </form>
          </Section>
        </div>
      ) : null}
      {!canChange && isDefault ? <p class="lg-help">Granting and taking back need the Tenant Management and System Configuration permission.</p> : null}
      {!isDefault ? <p class="lg-help">Only the default tenant's technician grants licenses to your tenant or takes them back.</p> : null}

      <Confirm
        open={confirmForce}
        title="Take back with force?"
        danger
        busy={busy}
        confirmLabel="Take back and unassign"
        onCancel={() => setConfirmForce(false)}
        onConfirm={() => void takeBack()}
      >
        <p id="force-desc">
          Taking back {backForm.count} {typeLabel(backForm.type)} from {backForm.tenant} with force
          {wouldUnassign > 0 ? ` unassigns ${wouldUnassign} of its Clients` : ' unassigns Clients only if the tenant assigned them meanwhile'} (longest
          offline first, then least recently seen); each receives StopMonitoring and stops being monitored.
        </p>
      </Confirm>
    </div>
  );
}
