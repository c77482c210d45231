/**
 * License Management (SPEC H5, C6, C7, H3): the Clients of a tenant, a server page at a time
 * (GET /tenants/{t}/clients: cursor pagination in client-id order, filters, search; it stays
 * fast with 100,000 Clients because each call reads one page, never the tenant). Assign,
 * unassign and uninstall go through the admin API with a confirmation.
 *
 * Live: license.assigned / license.unassigned events (SSE, live.ts) update a visible row at once
 * and refresh the page for a Client not on it (a new agent). Connects and disconnects arrive as
 * `presence` notices (coalesced by the server to at most one per 250 ms): the visible page is
 * re-read at most once a second on them, while the tab is visible and no dialog is open — one
 * page read, bounded, however many agents come and go. A slow re-read every 30 s is the safety
 * net for a stream that is down.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { Confirm } from '../components/confirm.tsx';
import { usePager } from '../components/pager.tsx';
import { toast } from '../components/toast.tsx';
import { subscribe, type LiveEvent } from '../live.ts';
import { canManageClients } from '../session.ts';
import type { PageProps } from './page-props.ts';
import { ENDPOINT_TYPES, exactTime, osWords, reasonWords, relativeTime, type EndpointType } from './client-words.ts';
// The server's answer types (type-only: erased from the bundle; a renamed field fails this typecheck).
import type { AssignAnswer, ClientPageAnswer, ClientRowAnswer, ReleaseAnswer } from '../../../src/http/routes/client-schemas.ts';

/** A row as the API answers it (the server's zod schema, type-only import). */
export type ClientRow = ClientRowAnswer;

type ClientPage = ClientPageAnswer & {
  /** The request this page answers (the status line waits for the page asked for). */
  asked?: string;
};

type Filter = 'all' | 'online' | 'offline' | 'unlicensed';
type SortKey = 'id' | 'hostname' | 'lastSeen' | 'license';
type Action = { kind: 'assign' | 'unassign' | 'uninstall'; row: ClientRow };

export const PAGE_SIZES = [50, 100, 200] as const;
/** Safety-net re-read of the visible page while the tab is visible (presence arrives live). */
const REFRESH_MS = 30_000;
/** Presence re-reads are at most this often. */
const PRESENCE_READ_MS = 1_000;

function query(tenant: string, limit: number, filter: Filter, type: string, search: string, cursor: string | undefined): string {
  const q = new URLSearchParams({ limit: String(limit) });
  if (filter !== 'all') q.set('filter', filter);
  if (type) q.set('type', type);
  if (search) q.set('search', search);
  if (cursor) q.set('cursor', cursor);
  return `/tenants/${encodeURIComponent(tenant)}/clients?${q.toString()}`;
}

function sortRows(rows: ClientRow[], key: SortKey, asc: boolean): ClientRow[] {
  if (key === 'id') return asc ? rows : [...rows].reverse();
  const val = (r: ClientRow): string | number => (key === 'hostname' ? r.hostname.toLowerCase() : key === 'lastSeen' ? (r.online ? Number.MAX_SAFE_INTEGER : r.lastSeen) : r.license ?? `~${r.reason}`);
  const out = [...rows].sort((a, b) => {
    const x = val(a);
    const y = val(b);
    return x < y ? -1 : x > y ? 1 : a.clientId < b.clientId ? -1 : 1;
  });
  return asc ? out : out.reverse();
}

function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const words: Record<string, string> = {
      NO_LICENSE_AVAILABLE: 'No free license of that type: activate a key or free one first.',
      LICENSE_TYPE_MISMATCH: 'That type does not fit the Client’s OS. Tick “force” to assign it anyway.',
      CLIENT_ALREADY_LICENSED: 'The Client already holds a license (the list was out of date).',
      CLIENT_UNINSTALLED: 'The Client is uninstalled.',
      NO_MATCHING_TYPE: 'No license type fits this Client’s OS: choose one and tick “force”.',
      FORBIDDEN: 'Your account may not do this.',
    };
    return `${words[err.code] ?? err.detail ?? err.code} (${err.code})`;
  }
  return err instanceof Error ? err.message : String(err);
}

export function ClientsPage(props: PageProps) {
  // The tenant comes from the shell (the header's TenantPicker for default-tenant accounts; the
  // page is re-made when it changes). Other accounts only ever have their own.
  const tenant = props.tenantId;
  const manage = canManageClients(props.session); // a read-only account sees no action buttons
  const [limit, setLimit] = useState<number>(50);
  const [filter, setFilter] = useState<Filter>('all');
  const [type, setType] = useState('');
  const [searchText, setSearchText] = useState('');
  const [search, setSearch] = useState('');
  /** The stack of cursors that led to the page shown (Previous pops it). */
  const pager = usePager();
  const [page, setPage] = useState<ClientPage | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; asc: boolean }>({ key: 'id', asc: true });
  const [action, setAction] = useState<Action | null>(null);
  const [, setTick] = useState(0); // re-renders the relative times
  const cursor = pager.cursor;
  const seq = useRef(0);

  const load = useCallback(
    async (quiet = false) => {
      const mine = ++seq.current;
      if (!quiet) setLoading(true);
      try {
        const asked = query(tenant, limit, filter, type, search, cursor);
        const p = await api.get<ClientPage>(asked);
        if (mine !== seq.current) return; // a newer request won
        setPage({ ...p, asked });
        setError('');
      } catch (err) {
        if (mine !== seq.current) return;
        setError(err instanceof ApiError && err.code === 'CLIENT_INDEX_BUILDING' ? 'The Client list of this tenant is being indexed; it appears in a moment.' : errorText(err));
      } finally {
        if (mine === seq.current) setLoading(false);
      }
    },
    [tenant, limit, filter, type, search, cursor],
  );

  useEffect(() => {
    void load();
  }, [load]);

  // The search box asks the server 300 ms after the last keystroke.
  useEffect(() => {
    const t = setTimeout(() => {
      const s = searchText.trim().slice(0, 128);
      if (s !== search) {
        setSearch(s);
        pager.reset();
      }
    }, 300);
    return () => clearTimeout(t);
  }, [searchText]);

  // Safety net: re-read the visible page now and then while the tab is visible and no dialog is open.
  const busy = action !== null;
  const busyRef = useRef(busy);
  busyRef.current = busy;
  useEffect(() => {
    const timer = setInterval(() => {
      setTick((n) => n + 1);
      if (document.visibilityState === 'visible' && !busyRef.current) void load(true);
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);


  // License changes and presence, live (SSE).
  const pageRef = useRef(page);
  pageRef.current = page;
  useEffect(() => {
    let refresh: ReturnType<typeof setTimeout> | undefined;
    // Presence: a notice means Clients connected or disconnected; re-read the visible page, at most once a second.
    let lastPresenceRead = 0;
    let presence: ReturnType<typeof setTimeout> | undefined;
    const presenceRead = () => {
      presence = undefined;
      if (document.visibilityState !== 'visible' || busyRef.current) return;
      lastPresenceRead = Date.now();
      setTick((n) => n + 1);
      void load(true);
    };
    // One stream for both (a browser holds at most six connections per host).
    const off = subscribe(tenant, ['license.assigned', 'license.unassigned', 'presence'], (ev: LiveEvent) => {
      if (ev.type === 'presence') {
        presence ??= setTimeout(presenceRead, Math.max(0, lastPresenceRead + PRESENCE_READ_MS - Date.now()));
        return;
      }
      const data = ev.data as { holder?: string; type?: string; reason?: string };
      const holder = data.holder;
      const shown = pageRef.current?.items.some((r) => r.clientId === holder);
      if (holder && shown) {
        setPage((p) =>
          p && {
            ...p,
            items: p.items.map((r) =>
              r.clientId !== holder
                ? r
                : ev.type === 'license.assigned'
                  ? { ...r, license: data.type ?? r.license, reason: '' }
                  : { ...r, license: null, reason: data.reason === 'UNASSIGNED_BY_ADMIN' || data.reason === 'UNINSTALLED' ? data.reason : 'NO_LICENSE_AVAILABLE' },
            ),
          },
        );
      }
      // Someone not on the page (a new agent), or a filter the change moves it out of: re-read.
      if (!shown || filter !== 'all' || type) {
        clearTimeout(refresh);
        refresh = setTimeout(() => void load(true), 300);
      }
    });
    return () => {
      clearTimeout(refresh);
      clearTimeout(presence);
      off();
    };
  }, [tenant, load, filter, type]);

  const reset = pager.reset;
  const rows = useMemo(() => sortRows(page?.items ?? [], sort.key, sort.asc), [page, sort]);
  const pageNo = pager.page;
  const first = (pageNo - 1) * limit;
  const filtered = filter !== 'all' || type !== '' || search !== '';

  function sortButton(key: SortKey, label: string) {
    const on = sort.key === key;
    return (
      <button type="button" class="sort" title={`Sort the page shown by ${label.toLowerCase()}`} aria-pressed={on} onClick={() => setSort({ key, asc: on ? !sort.asc : true })}>
        {label}
        {on ? (sort.asc ? ' ▲' : ' ▼') : ''}
      </button>
    );
  }

  return (
    <section class="page clients-page" aria-labelledby="clients-title">
      <header class="page-header">
        <h1 id="clients-title">License Management</h1>
        <p class="muted">
          Clients of tenant <strong>{tenant}</strong>
        </p>
      </header>

      <form class="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search{' '}
          <input type="search" name="search" placeholder="hostname or client id" maxLength={128} value={searchText} onInput={(e) => setSearchText((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Show{' '}
          <select
            name="filter"
            value={filter}
            onChange={(e) => {
              setFilter((e.target as HTMLSelectElement).value as Filter);
              reset();
            }}
          >
            <option value="all">all Clients</option>
            <option value="online">online</option>
            <option value="offline">offline</option>
            <option value="unlicensed">unlicensed</option>
          </select>
        </label>
        <label>
          License type{' '}
          <select
            name="type"
            value={type}
            onChange={(e) => {
              setType((e.target as HTMLSelectElement).value);
              reset();
            }}
          >
            <option value="">any</option>
            {ENDPOINT_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Per page{' '}
          <select
            name="limit"
            value={String(limit)}
            onChange={(e) => {
              setLimit(Number((e.target as HTMLSelectElement).value));
              reset();
            }}
          >
            {PAGE_SIZES.map((n) => (
              <option key={n} value={String(n)}>
                {n}
              </option>
            ))}
          </select>
        </label>
      </form>

      {error && (
        <div class="banner banner-error" role="alert">
          <p>{error}</p>
        </div>
      )}

      <p class="hint" id="clients-order">
        Pages follow client-id order (the server’s index, fast with any number of Clients). The column buttons sort the page shown.
      </p>

      <div class="table-wrap">
        <table class="data clients" aria-describedby="clients-order" aria-busy={loading}>
          <thead>
            <tr>
              <th scope="col">{sortButton('id', 'Client')}</th>
              <th scope="col">{sortButton('hostname', 'Hostname')}</th>
              <th scope="col">OS</th>
              <th scope="col">{sortButton('lastSeen', 'Online / last seen')}</th>
              <th scope="col">{sortButton('license', 'License')}</th>
              <th scope="col">Status</th>
              {manage && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.clientId} data-client-id={r.clientId}>
                <td class="mono">{r.clientId}</td>
                <td title={`client id ${r.clientId}`}>{r.hostname}</td>
                <td>{osWords(r.os)}</td>
                <td>
                  <span class={r.online ? 'badge online' : 'badge offline'}>{r.online ? 'online' : 'offline'}</span>{' '}
                  <span class="muted" title={exactTime(r.lastSeen)}>
                    {r.online ? '' : relativeTime(r.lastSeen)}
                  </span>
                </td>
                <td class="license">{r.license ? <strong>{r.license}</strong> : <span class="muted">{reasonWords(r.status === 'uninstalled' ? 'UNINSTALLED' : r.reason)}</span>}</td>
                <td>{r.status}</td>
                {manage && (
                  <td class="row-actions">
                    {r.status === 'active' && r.license === null && (
                      <button type="button" onClick={() => setAction({ kind: 'assign', row: r })} aria-label={`Assign a license to ${r.hostname || r.clientId}`}>
                        Assign
                      </button>
                    )}
                    {r.status === 'active' && r.license !== null && (
                      <button type="button" onClick={() => setAction({ kind: 'unassign', row: r })} aria-label={`Unassign the license of ${r.hostname || r.clientId}`}>
                        Unassign
                      </button>
                    )}
                    {r.status === 'active' && (
                      <button type="button" class="danger" onClick={() => setAction({ kind: 'uninstall', row: r })} aria-label={`Uninstall ${r.hostname || r.clientId}`}>
                        Uninstall
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
            {page && rows.length === 0 && (
              <tr>
                <td colSpan={manage ? 7 : 6} class="empty">
                  {page.nextCursor ? 'No match in this stretch of the tenant — press Next to search further.' : filtered ? 'No Client matches.' : 'No Clients yet: agents appear here when they connect.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>

      <nav class="pager" aria-label="Client pages">
        <button type="button" disabled={pageNo <= 1 || loading} onClick={pager.previous}>
          ← Previous
        </button>
        <span class="pager-status" aria-live="polite">
          {page && page.asked === query(tenant, limit, filter, type, search, cursor)
            ? filtered
              ? `Page ${pageNo} · ${rows.length} shown · ${page.total.toLocaleString('en')} Clients in the tenant`
              : `${rows.length ? `${(first + 1).toLocaleString('en')}–${(first + rows.length).toLocaleString('en')}` : '0'} of ${page.total.toLocaleString('en')} Clients`
            : loading
              ? 'Loading…'
              : ''}
        </span>
        <button type="button" disabled={!page?.nextCursor || loading} onClick={() => page?.nextCursor && pager.next(page.nextCursor)}>
          Next →
        </button>
      </nav>

      {action && (
        <ActionDialog
          tenant={tenant}
          action={action}
          onClose={() => setAction(null)}
          onDone={(row, message) => {
            setAction(null);
            toast(message);
            setPage((p) => p && { ...p, items: p.items.map((x) => (x.clientId === row.clientId ? { ...x, ...row } : x)) });
            void load(true);
          }}
        />
      )}
    </section>
  );
}

interface ActionDialogProps {
  tenant: string;
  action: Action;
  onClose(): void;
  onDone(row: Partial<ClientRow> & { clientId: string }, message: string): void;
}

/** The confirmation of one action; assign also chooses the type (default: the OS's). */
function ActionDialog({ tenant, action, onClose, onDone }: ActionDialogProps) {
  const { kind, row } = action;
  // The type the Client's OS maps to, as the server computed it (null: none fits): preselected.
  const osType = row.osType;
  const [type, setType] = useState<'' | EndpointType>(osType ?? '');
  const [force, setForce] = useState(false);
  const [working, setWorking] = useState(false);
  const [error, setError] = useState('');
  const name = row.hostname || row.clientId;
  const mismatch = type !== '' && type !== osType;

  async function confirm() {
    setWorking(true);
    setError('');
    const base = `/tenants/${encodeURIComponent(tenant)}/clients/${encodeURIComponent(row.clientId)}`;
    try {
      if (kind === 'assign') {
        const r = await api.post<AssignAnswer>(`${base}/assign`, type ? { type, force: mismatch && force } : {});
        onDone({ clientId: row.clientId, license: r.license, reason: r.reason, online: r.online, status: r.status }, `${name} now holds a ${r.license} license${r.reclaimed ? ` (reclaimed from ${r.reclaimed})` : ''}.`);
      } else if (kind === 'unassign') {
        const r = await api.post<ReleaseAnswer>(`${base}/unassign`);
        onDone({ clientId: row.clientId, license: null, reason: r.reason, status: r.status }, `${name}'s license was unassigned${row.online ? ': it was told to stop monitoring' : ': it stops when it next connects'}.`);
      } else {
        const r = await api.post<ReleaseAnswer>(`${base}/uninstall`);
        onDone({ clientId: row.clientId, license: null, reason: r.reason, status: r.status }, `${name} was uninstalled.`);
      }
    } catch (err) {
      setWorking(false);
      setError(errorText(err));
    }
  }

  const title = kind === 'assign' ? `Assign a license to ${name}?` : kind === 'unassign' ? `Unassign ${name}'s ${row.license} license?` : `Uninstall ${name}?`;
  return (
    <Confirm
      open
      title={title}
      busy={working}
      danger={kind === 'uninstall'}
      confirmLabel={kind === 'assign' ? 'Assign' : kind === 'unassign' ? 'Unassign' : 'Uninstall'}
      onConfirm={() => void confirm()}
      onCancel={onClose}
    >
      {kind === 'assign' && (
        <>
          <label>
            License type{' '}
            <select name="assign-type" value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value as '' | EndpointType)}>
              {osType === null && <option value="">choose a type (none fits its OS)</option>}
              {ENDPOINT_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                  {t === osType ? ' (its OS’s type)' : ''}
                </option>
              ))}
            </select>
          </label>
          {mismatch && (
            <p class="warning">
              <label>
                <input type="checkbox" name="force" checked={force} onChange={(e) => setForce((e.target as HTMLInputElement).checked)} /> force
              </label>{' '}
              — {osType ? `${osWords(row.os)} needs ${osType}.` : `No license type fits ${osWords(row.os)}.`} A {type} license does not fit it unless you force it: the Client is then licensed
              with a type its OS would not get by itself (and uses a license of the {type} pool).
            </p>
          )}
        </>
      )}
      {kind === 'unassign' && (
        <p>
          {row.online ? 'The agent is online: it receives StopMonitoring at once.' : 'The agent is offline: it receives StopMonitoring when it next connects.'} It stays unlicensed until someone
          assigns it again.
        </p>
      )}
      {kind === 'uninstall' && (
        <p class="warning">
          The agent on {name} <strong>uninstalls itself</strong> ({row.online ? 'now' : 'when it next connects'}) and its license is freed. This cannot be undone from the console: the machine
          needs a new install to come back.
        </p>
      )}
      {error && (
        <div class="banner banner-error" role="alert">
          <p>{error}</p>
        </div>
      )}
    </Confirm>
  );
}
