/**
 * Audit (SPEC A5): a tenant's trail of license changes, newest first, with filters (action, actor,
 * Client id, since/until), cursor paging (`next` → `before`) and a CSV export link carrying the
 * same filters (a plain link GET: the session cookie authenticates it). Reading needs no
 * permission, only the tenant scope (a default-tenant account picks the tenant in the header).
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import type { PageProps } from './page-props.ts';
import { usePager, Pager } from '../components/pager.tsx';
import { Problem, formatTime } from './licensing-common.tsx';
// The server's answer types (type-only: erased from the bundle; a renamed field fails this typecheck).
import type { AuditEntryAnswer as AuditEntry, AuditPageAnswer } from '../../../src/http/routes/audit-schema.ts';

interface Filters {
  action: string;
  actor: string;
  clientId: string;
  since: string;
  until: string;
}

const EMPTY: Filters = { action: '', actor: '', clientId: '', since: '', until: '' };
const PAGE = 50;
/** Actions the ledger writes (free text is accepted too). */
const ACTIONS = ['assigned', 'unassigned', 'key-activated', 'granted-out', 'granted-in', 'taken-back', 'grant-withdrawn', 'purged', 'tenant-renamed', 'tenant-deleted', 'enroll-token-rotated'];

/** A `datetime-local` value (local time) as ms since the epoch; '' → undefined. */
function toMs(local: string, end: boolean): number | undefined {
  if (!local) return undefined;
  const ms = new Date(local).getTime();
  if (!Number.isFinite(ms)) return undefined;
  // A minute-precision input: `until` includes the whole minute.
  return end ? ms + 59_999 : ms;
}

export function auditQuery(f: Filters): Record<string, string | number | undefined> {
  return {
    action: f.action.trim() || undefined,
    actor: f.actor.trim() || undefined,
    clientId: f.clientId.trim() || undefined,
    since: toMs(f.since, false),
    until: toMs(f.until, true),
  };
}

export function AuditPage({ tenantId: tenant }: PageProps) {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const pager = usePager();
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    setBusy(true);
    api
      .get<AuditPageAnswer>(`/tenants/${api.seg(tenant)}/audit${api.query({ ...auditQuery(applied), limit: PAGE, before: pager.cursor })}`)
      .then(
        (r) => {
          if (!live) return;
          setEntries(r.entries);
          setNext(r.next);
          setError(null);
        },
        (err: unknown) => live && setError(err),
      )
      .finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
  }, [tenant, applied, pager.cursor]);

  const set = (k: keyof Filters) => (e: Event) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value });
  const csvHref = `/api/v1/tenants/${encodeURIComponent(tenant)}/audit.csv${api.query(auditQuery(applied))}`;

  return (
    <div class="lg-page">
      <h1>Audit</h1>
      <p class="lg-help">Every license change of tenant <strong>{tenant}</strong> with its actor, reason, time, before and after; newest first.</p>
      <form
        class="lg-filters"
        id="audit-filters"
        onSubmit={(e) => {
          e.preventDefault();
          pager.reset();
          setApplied(draft);
        }}
      >
        <span>
          <label for="audit-action">Action</label>
          <input id="audit-action" type="text" list="audit-actions" value={draft.action} onInput={set('action')} />
          <datalist id="audit-actions">
            {ACTIONS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </span>
        <span>
          <label for="audit-actor">Actor (account id or system)</label>
          <input id="audit-actor" type="text" value={draft.actor} onInput={set('actor')} />
        </span>
        <span>
          <label for="audit-client">Client id</label>
          <input id="audit-client" type="text" value={draft.clientId} onInput={set('clientId')} />
        </span>
        <span>
          <label for="audit-since">Since</label>
          <input id="audit-since" type="datetime-local" value={draft.since} onInput={set('since')} />
        </span>
        <span>
          <label for="audit-until">Until</label>
          <input id="audit-until" type="datetime-local" value={draft.until} onInput={set('until')} />
        </span>
        <span class="lg-filter-actions">
          <button type="submit">Apply filters</button>
          <button
            type="button"
            onClick={() => {
              setDraft(EMPTY);
              pager.reset();
              setApplied(EMPTY);
            }}
          >
            Clear
          </button>
          <a class="lg-button" id="audit-csv" href={csvHref} download={`audit-${tenant}.csv`}>
            Export CSV
          </a>
        </span>
      </form>
      {error ? <Problem error={error} label="Could not load" /> : null}
      <div class="lg-scroll">
        <table class="lg-table lg-audit" id="audit-table" aria-busy={busy ? 'true' : 'false'} data-loaded={entries !== null && !busy ? 'true' : 'false'}>
          <caption class="lg-sr-only">Audit trail of {tenant}</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Action</th>
              <th scope="col">Holder</th>
              <th scope="col">Type</th>
              <th scope="col">Before → after</th>
              <th scope="col">Reason</th>
              <th scope="col">Actor</th>
              <th scope="col">Cause</th>
            </tr>
          </thead>
          <tbody>
            {(entries ?? []).map((e) => (
              <tr key={e.id} data-id={e.id} data-action={e.action}>
                <td>{formatTime(e.ts)}</td>
                <td>{e.action}</td>
                <td>{e.holder ? <code>{e.holder}</code> : '—'}</td>
                <td>{e.type || '—'}</td>
                <td>{e.before || e.after ? `${e.before || '∅'} → ${e.after || '∅'}` : '—'}</td>
                <td>{e.reason || '—'}</td>
                <td>{e.actor}</td>
                <td>
                  <code>{e.cause}</code>
                </td>
              </tr>
            ))}
            {entries && entries.length === 0 ? (
              <tr>
                <td colSpan={8}>{next ? 'No matching entries in this stretch of the trail: go to the next page to look further back.' : 'No entries.'}</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
      <Pager pager={pager} nextCursor={next} busy={busy} label="Audit pages" />
    </div>
  );
}
