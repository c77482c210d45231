/**
 * User Management (SPEC P1, H5): a tenant's PAM users with their seats, the tenant's PAM seat
 * pool (granted / assigned / available, from GET /tenants/{t}), creating a user, and giving or
 * taking a seat — by hand only, with a confirmation: nothing assigns seats automatically (P1).
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { Confirm } from '../components/confirm.tsx';
import { toast } from '../components/toast.tsx';
import { canManageClients } from '../session.ts';
import type { PageProps } from './page-props.ts';
// The server's answer types (type-only: erased from the bundle; a renamed field fails this typecheck).
import type { PamUserAnswer as PamUser } from '../../../src/http/routes/schemas.ts';

interface Pool {
  type: string;
  granted: number;
  assigned: number;
  available: number;
}

function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const words: Record<string, string> = {
      USER_EXISTS: 'A PAM user with that name (or id) already exists in this tenant.',
      NOT_ENOUGH_LICENSES: 'No PAM seat is free: every seat of the tenant is taken.',
      NO_LICENSE_AVAILABLE: 'No PAM seat is free: every seat of the tenant is taken.',
      USER_NOT_FOUND: 'That PAM user no longer exists.',
      FORBIDDEN: 'Your account may not do this.',
    };
    const fields = err.errors?.length ? ` ${err.errors.map((e) => e.message).join('; ')}` : '';
    return `${words[err.code] ?? err.detail ?? err.code}${fields} (${err.code})`;
  }
  return err instanceof Error ? err.message : String(err);
}

export function UsersPage(props: PageProps) {
  const tenant = props.tenantId; // the header's TenantPicker (default-tenant accounts) or the account's own
  const manage = canManageClients(props.session); // PAM seats need the Client and license permissions
  const [users, setUsers] = useState<PamUser[] | null>(null);
  const [pool, setPool] = useState<Pool | null>(null);
  const [error, setError] = useState('');
  const [name, setName] = useState('');
  const [userId, setUserId] = useState('');
  const [createError, setCreateError] = useState('');
  const [creating, setCreating] = useState(false);
  const [confirm, setConfirm] = useState<PamUser | null>(null);

  const load = useCallback(async () => {
    try {
      const t = encodeURIComponent(tenant);
      const [list, detail] = await Promise.all([api.get<PamUser[]>(`/tenants/${t}/users`), api.get<{ pools: Pool[] }>(`/tenants/${t}`)]);
      setUsers([...list].sort((a, b) => a.name.localeCompare(b.name)));
      setPool(detail.pools.find((p) => p.type === 'pam-seat') ?? { type: 'pam-seat', granted: 0, assigned: 0, available: 0 });
      setError('');
    } catch (err) {
      setError(errorText(err));
    }
  }, [tenant]);

  useEffect(() => {
    void load();
  }, [load]);

  async function create(e: Event) {
    e.preventDefault();
    setCreating(true);
    setCreateError('');
    try {
      const u = await api.post<PamUser>(`/tenants/${encodeURIComponent(tenant)}/users`, { name: name.trim(), ...(userId.trim() ? { userId: userId.trim() } : {}) });
      toast(`PAM user ${u.name} (${u.id}) created, without a seat.`);
      setName('');
      setUserId('');
      await load();
    } catch (err) {
      setCreateError(errorText(err));
    } finally {
      setCreating(false);
    }
  }

  const used = pool ? pool.assigned : 0;
  const size = pool ? pool.assigned + pool.available : 0;

  return (
    <section class="page users-page" aria-labelledby="users-title">
      <header class="page-header">
        <h1 id="users-title">User Management</h1>
        <p class="muted">
          PAM users of tenant <strong>{tenant}</strong>
        </p>
      </header>

      {error && (
        <div class="banner banner-error" role="alert">
          <p>{error}</p>
        </div>
      )}

      {pool && (
        <div class="pool" aria-label="PAM seats">
          <h2>PAM seats</h2>
          <dl class="numbers">
            <div>
              <dt>Granted</dt>
              <dd data-pool="granted">{pool.granted}</dd>
            </div>
            <div>
              <dt>Assigned</dt>
              <dd data-pool="assigned">{pool.assigned}</dd>
            </div>
            <div>
              <dt>Available</dt>
              <dd data-pool="available">{pool.available}</dd>
            </div>
          </dl>
          {size > 0 && <progress max={size} value={used} aria-label={`${used} of ${size} PAM seats assigned`} />}
          <p class="hint">Seats are given and taken by hand only; nothing assigns them automatically.</p>
        </div>
      )}

      {manage && (
        <form class="create-user" onSubmit={create} aria-labelledby="create-user-title">
          <h2 id="create-user-title">New PAM user</h2>
          <label>
            Name <input name="user-name" required maxLength={128} value={name} onInput={(e) => {
                setName((e.target as HTMLInputElement).value);
                setCreateError('');
              }} />
          </label>
          <label>
            User id (optional) <input name="user-id" maxLength={128} placeholder="made from the name" value={userId} onInput={(e) => setUserId((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="primary" disabled={creating || !name.trim()}>
            Create user
          </button>
          {createError && (
            <div class="banner banner-error" role="alert">
              <p>{createError}</p>
            </div>
          )}
        </form>
      )}

      <div class="table-wrap">
        <table class="data users" aria-busy={users === null}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">User id</th>
              <th scope="col">PAM seat</th>
              {manage && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {(users ?? []).map((u) => (
              <tr key={u.id} data-user-id={u.id}>
                <td>{u.name}</td>
                <td class="mono">{u.id}</td>
                <td>{u.seat ? <strong>seat</strong> : <span class="muted">no seat</span>}</td>
                {manage && (
                  <td class="row-actions">
                    <button type="button" onClick={() => setConfirm(u)} aria-label={u.seat ? `Take the seat of ${u.name}` : `Give a seat to ${u.name}`}>
                      {u.seat ? 'Take seat' : 'Give seat'}
                    </button>
                  </td>
                )}
              </tr>
            ))}
            {users && users.length === 0 && (
              <tr>
                <td colSpan={manage ? 4 : 3} class="empty">
                  No PAM users yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>

      {confirm && (
        <SeatDialog
          tenant={tenant}
          user={confirm}
          onClose={() => setConfirm(null)}
          onDone={(message) => {
            setConfirm(null);
            setCreateError('');
            toast(message);
            void load();
          }}
        />
      )}
    </section>
  );
}

function SeatDialog({ tenant, user, onClose, onDone }: { tenant: string; user: PamUser; onClose(): void; onDone(message: string): void }) {
  const [working, setWorking] = useState(false);
  const [error, setError] = useState('');
  async function confirm() {
    setWorking(true);
    setError('');
    const path = `/tenants/${encodeURIComponent(tenant)}/users/${encodeURIComponent(user.id)}/pam-seat`;
    try {
      if (user.seat) await api.del(path);
      else await api.put(path);
      onDone(user.seat ? `${user.name}'s PAM seat was taken back.` : `${user.name} now has a PAM seat.`);
    } catch (err) {
      setWorking(false);
      setError(errorText(err));
    }
  }
  return (
    <Confirm
      open
      title={user.seat ? `Take ${user.name}'s PAM seat back?` : `Give ${user.name} a PAM seat?`}
      busy={working}
      confirmLabel={user.seat ? 'Take seat' : 'Give seat'}
      onConfirm={() => void confirm()}
      onCancel={onClose}
    >
      <p>{user.seat ? 'The seat returns to the tenant’s pool.' : 'One seat of the tenant’s pool is charged to this user.'}</p>
      {error && (
        <div class="banner banner-error" role="alert">
          <p>{error}</p>
        </div>
      )}
    </Confirm>
  );
}
