/**
 * Tenants (SPEC T1, T6, Z2, C11, C12): list, create (the enrollment token shown once, with a copy
 * button), rotate the enrollment token (with a grace for the previous one), rename, delete, and
 * the licensing policy (reclaim after N days, free non-persistent Clients on disconnect). A tenant
 * admin sees only its own tenant (the API filters the list).
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Confirm } from '../components/confirm.tsx';
import type { PageProps } from './page-props.ts';
// The server's answer types (type-only: erased from the bundle; a renamed field fails this typecheck).
import type { PolicyAnswer as Policy, TenantInfoAnswer as TenantInfo } from '../../../src/http/routes/schemas.ts';
import { PERMISSIONS, can, canManageSystem } from '../session.ts';
import { DEFAULT_TENANT, Problem, Section, formatTime, typeLabel } from './licensing-common.tsx';

interface TenantDetailInfo {
  clients: number;
  uninstalledClients: number;
  pamUsers: number;
  pools: { type: string; granted: number; assigned: number; available: number; waiting: number }[];
}

interface ShownToken {
  tenantId: string;
  token: string;
  what: 'created' | 'rotated';
  previousValidUntil?: number;
}

const GRACES: { label: string; seconds: number }[] = [
  { label: 'none: the old token stops enrolling at once (suspected leak)', seconds: 0 },
  { label: '1 hour', seconds: 3600 },
  { label: '24 hours', seconds: 86_400 },
  { label: '7 days (planned change)', seconds: 7 * 86_400 },
  { label: '30 days (the most)', seconds: 30 * 86_400 },
];

/** The one-time enrollment token: shown until dismissed, never stored by the console. */
function TokenOnce({ shown, onDone }: { shown: ShownToken; onDone: () => void }) {
  const [copied, setCopied] = useState<'' | 'ok' | 'failed'>('');
  async function copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(shown.token);
      setCopied('ok');
    } catch {
      const input = document.getElementById('enrollment-token') as HTMLInputElement | null;
      input?.select();
      setCopied('failed');
    }
  }
  return (
    <div class="lg-token-once" role="region" aria-labelledby="token-once-title">
      <h2 id="token-once-title">
        {shown.what === 'created' ? 'Tenant created' : 'Token rotated'}: enrollment token for {shown.tenantId}
      </h2>
      <p class="lg-warn lg-warn-soon">
        <strong>Store it now: it is shown only this once.</strong> licensegate keeps only its hash and cannot show it again; if it is lost, rotate
        the token. Agents of this tenant enroll with it.
      </p>
      <div class="lg-token-row">
        <label for="enrollment-token">Enrollment token</label>
        <input id="enrollment-token" type="text" readOnly value={shown.token} onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <span role="status">{copied === 'ok' ? 'Copied to the clipboard.' : copied === 'failed' ? 'Copy failed: the token is selected, press Ctrl+C.' : ''}</span>
      </div>
      {shown.previousValidUntil ? <p>The previous token keeps enrolling until {formatTime(shown.previousValidUntil)}.</p> : null}
      <button type="button" onClick={onDone}>
        I have stored it
      </button>
    </div>
  );
}

function TenantDetail({ tenant, session, onChanged, onToken }: { tenant: TenantInfo; session: PageProps['session']; onChanged: (msg: string) => void; onToken: (t: ShownToken) => void }) {
  const technician = canManageSystem(session);
  const canPolicy = can(session, PERMISSIONS.licenses);
  const canRotate = can(session, PERMISSIONS.clients);
  const [policy, setPolicy] = useState<Policy | null>(null);
  const [detail, setDetail] = useState<TenantDetailInfo | null>(null);
  const [name, setName] = useState(tenant.name);
  const [grace, setGrace] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const t = encodeURIComponent(tenant.id);

  useEffect(() => {
    setName(tenant.name);
    setError(null);
    api.get<Policy>(`/tenants/${t}/policy`).then(setPolicy, setError);
    api.get<TenantDetailInfo>(`/tenants/${t}`).then(setDetail, () => setDetail(null));
  }, [tenant.id]);

  async function run(f: () => Promise<string>): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      onChanged(await f());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="lg-tenant-detail" aria-label={`Tenant ${tenant.id}`}>
      <h2>
        {tenant.name} <code>{tenant.id}</code>
      </h2>
      {detail ? (
        <p id="tenant-holds">
          Holds {detail.clients - detail.uninstalledClients} Client{detail.clients - detail.uninstalledClients === 1 ? '' : 's'}
          {detail.uninstalledClients ? ` (+${detail.uninstalledClients} uninstalled, not yet purged)` : ''}, {detail.pamUsers} PAM user
          {detail.pamUsers === 1 ? '' : 's'}
          {detail.pools.some((p) => p.granted > 0 || p.waiting > 0)
            ? `; licenses: ${detail.pools
                .filter((p) => p.granted > 0 || p.waiting > 0)
                .map((p) => `${typeLabel(p.type)} ${p.assigned}/${p.granted}${p.waiting ? ` (${p.waiting} waiting)` : ''}`)
                .join(', ')}`
            : '; no licenses'}
          .
        </p>
      ) : null}
      {error ? <Problem error={error} label="Not done" /> : null}
      <Section title="Licensing policy" id="policy">
        {policy ? (
          <form
            class="lg-form"
            onSubmit={(e) => {
              e.preventDefault();
              void run(async () => {
                const p = await api.put<Policy>(`/tenants/${t}/policy`, { reclaimAfterDays: policy.reclaimAfterDays, freeNonPersistentOnDisconnect: policy.freeNonPersistentOnDisconnect });
                setPolicy(p);
                return `Policy of ${tenant.id} saved.`;
              });
            }}
          >
            <label for="reclaim-days">Reclaim after N days offline (0 = off)</label>
            <input
              id="reclaim-days"
              type="number"
              min={0}
              max={3650}
              value={policy.reclaimAfterDays}
              disabled={!canPolicy}
              aria-describedby="reclaim-help"
              onInput={(e) => setPolicy({ ...policy, reclaimAfterDays: Number((e.currentTarget as HTMLInputElement).value) })}
            />
            <p class="lg-help" id="reclaim-help">
              When a Client needs a license and the pool is empty, take the license of the Client offline longest, if offline at least this many days; that
              Client gets StopMonitoring.
            </p>
            <label class="lg-check" for="free-nonpersistent">
              <input
                id="free-nonpersistent"
                type="checkbox"
                checked={policy.freeNonPersistentOnDisconnect}
                disabled={!canPolicy}
                onChange={(e) => setPolicy({ ...policy, freeNonPersistentOnDisconnect: (e.currentTarget as HTMLInputElement).checked })}
              />{' '}
              Free the license of a non-persistent Client (golden-image virtual desktop) when it disconnects
            </label>
            {canPolicy ? (
              <div>
                <button type="submit" disabled={busy}>
                  Save policy
                </button>
              </div>
            ) : null}
          </form>
        ) : (
          <p>Loading…</p>
        )}
      </Section>

      {canRotate ? (
        <Section title="Enrollment token" id="rotate">
          <form
            class="lg-form"
            onSubmit={(e) => {
              e.preventDefault();
              void run(async () => {
                const r = await api.post<{ tenantId: string; previousValidUntil: number; enrollmentToken: string }>(`/tenants/${t}/rotate-token`, { graceSeconds: grace });
                onToken({ tenantId: r.tenantId, token: r.enrollmentToken, what: 'rotated', previousValidUntil: grace > 0 ? r.previousValidUntil : 0 });
                return `New enrollment token for ${tenant.id}.`;
              });
            }}
          >
            <label for="rotate-grace">The previous token keeps enrolling new agents for</label>
            <select id="rotate-grace" value={String(grace)} onChange={(e) => setGrace(Number((e.currentTarget as HTMLSelectElement).value))}>
              {GRACES.map((g) => (
                <option key={g.seconds} value={String(g.seconds)}>
                  {g.label}
                </option>
              ))}
            </select>
            <p class="lg-help">Agents already enrolled use their own credentials: a rotation does not affect them.</p>
            <div>
              <button type="submit" disabled={busy}>
                Rotate token
              </button>
            </div>
          </form>
        </Section>
      ) : null}

      {technician ? (
        <Section title="Rename or delete" id="rename">
          <form
            class="lg-form"
            onSubmit={(e) => {
              e.preventDefault();
              void run(async () => {
                const r = await api.patch<TenantInfo>(`/tenants/${t}`, { name });
                return `Tenant ${r.id} renamed to ${r.name}.`;
              });
            }}
          >
            <label for="rename-name">Name (the id {tenant.id} stays)</label>
            <input id="rename-name" type="text" maxLength={128} required value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
            <div>
              <button type="submit" disabled={busy || !name.trim() || name.trim() === tenant.name}>
                Rename
              </button>
            </div>
          </form>
          {tenant.id !== DEFAULT_TENANT ? (
            <p>
              <button type="button" class="lg-danger" disabled={busy} onClick={() => setConfirmDelete(true)}>
                Delete tenant…
              </button>{' '}
              <span class="lg-help">Only an empty tenant can be deleted (no licenses, Clients or PAM users).</span>
            </p>
          ) : null}
        </Section>
      ) : null}

      <Confirm
        open={confirmDelete}
        title={`Delete tenant ${tenant.id}?`}
        danger
        busy={busy}
        confirmLabel="Delete"
        onCancel={() => setConfirmDelete(false)}
        onConfirm={() => {
          setConfirmDelete(false);
          void run(async () => {
            await api.del(`/tenants/${t}`);
            return `Tenant ${tenant.id} deleted.`;
          });
        }}
      >
        <p id="delete-desc">
          The tenant, its policy and its enrollment token are deleted. It must be empty: a tenant that still holds licenses, Clients or PAM users is refused
          (TENANT_NOT_EMPTY).
        </p>
      </Confirm>
    </div>
  );
}

export function TenantsPage({ session }: PageProps) {
  const technician = canManageSystem(session);
  const [tenants, setTenants] = useState<TenantInfo[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [selected, setSelected] = useState<string>('');
  const [newName, setNewName] = useState('');
  const [newId, setNewId] = useState('');
  const [createError, setCreateError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState('');
  const [token, setToken] = useState<ShownToken | null>(null);

  async function load(): Promise<void> {
    try {
      const list = await api.get<TenantInfo[]>('/tenants');
      setTenants(list);
      setSelected((s) => (s && list.some((t) => t.id === s) ? s : (list.find((t) => t.id === session.account.tenantId)?.id ?? list[0]?.id ?? '')));
      setLoadError(null);
    } catch (err) {
      setLoadError(err);
    }
  }

  useEffect(() => {
    void load();
  }, []);

  async function create(ev: Event): Promise<void> {
    ev.preventDefault();
    setBusy(true);
    setCreateError(null);
    setNotice('');
    try {
      const r = await api.post<TenantInfo & { enrollmentToken: string }>('/tenants', { name: newName.trim(), ...(newId.trim() ? { tenantId: newId.trim() } : {}) });
      setNewName('');
      setNewId('');
      setToken({ tenantId: r.id, token: r.enrollmentToken, what: 'created' });
      setSelected(r.id);
      await load();
    } catch (err) {
      setCreateError(err);
    } finally {
      setBusy(false);
    }
  }

  const current = tenants?.find((t) => t.id === selected) ?? null;

  return (
    <div class="lg-page">
      <h1>Tenants</h1>
      {loadError ? <Problem error={loadError} label="Could not load" /> : null}
      {token ? <TokenOnce shown={token} onDone={() => setToken(null)} /> : null}
      {notice ? (
        <p class="lg-notice" role="status" id="tenants-notice">
          {notice}
        </p>
      ) : null}
      <div class="lg-columns">
        <Section title={technician ? 'All tenants' : 'Your tenant'} id="tenant-list">
          <div class="lg-scroll">
            <table class="lg-table" id="tenants-table">
              <caption class="lg-sr-only">Tenants</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Id</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {(tenants ?? []).map((t) => (
                  <tr key={t.id} data-tenant={t.id} aria-selected={t.id === selected ? 'true' : 'false'} class={t.id === selected ? 'lg-selected' : ''}>
                    <th scope="row">
                      <button type="button" class="lg-link" aria-pressed={t.id === selected} onClick={() => setSelected(t.id)}>
                        {t.name}
                      </button>
                    </th>
                    <td>
                      <code>{t.id}</code>
                    </td>
                    <td>{formatTime(t.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {technician ? (
            <form class="lg-form" id="create-tenant" onSubmit={(e) => void create(e)}>
              <h3>Create a tenant</h3>
              <label for="tenant-name">Name</label>
              <input id="tenant-name" type="text" required maxLength={128} value={newName} onInput={(e) => setNewName((e.currentTarget as HTMLInputElement).value)} />
              <label for="tenant-id">Id (optional: derived from the name; letters, digits, . _ -)</label>
              <input id="tenant-id" type="text" maxLength={64} pattern="[A-Za-z0-9._\-]{1,64}" value={newId} onInput={(e) => setNewId((e.currentTarget as HTMLInputElement).value)} />
              <div>
                <button type="submit" disabled={busy || !newName.trim()}>
                  Create tenant
                </button>
              </div>
              {createError ? <Problem error={createError} label="Not created" /> : null}
            </form>
          ) : null}
        </Section>
        {current ? (
          <TenantDetail
            key={current.id}
            tenant={current}
            session={session}
            onToken={setToken}
            onChanged={(msg) => {
              setNotice(msg);
              void load();
            }}
          />
        ) : null}
      </div>
    </div>
  );
}
