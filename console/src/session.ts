/**
 * Who is signed in (`GET /api/v1/auth/session`) and what the account may do. The console hides
 * every control the account could not use (a read-only account sees no buttons that would fail);
 * the server checks everything again (docs/api.md).
 */
import { DEFAULT_TENANT, PERMISSIONS, type Permission } from '../../src/licensing/permission-names.ts';
import { api, ApiError, setCsrfToken } from './api.ts';

/** The server's own names (a dependency-free module the bundle includes). */
export { DEFAULT_TENANT, PERMISSIONS, type Permission } from '../../src/licensing/permission-names.ts';

export interface Account {
  id: string;
  name: string;
  tenantId: string;
  permissions: Permission[];
  createdAt: number;
  disabled: boolean;
  passwordSet: boolean;
}

export interface Session {
  account: Account;
  csrfToken: string | null;
  /** The session's absolute end (ms); null for a bearer token. */
  expiresAt: number | null;
}

/** True when the account holds every permission named. */
export function can(session: Pick<Session, 'account'>, ...permissions: Permission[]): boolean {
  return permissions.every((p) => session.account.permissions.includes(p));
}

/** A default-tenant account: reads every tenant, and the system-wide pages (keys, grants). */
export function isSystem(session: Pick<Session, 'account'>): boolean {
  return session.account.tenantId === DEFAULT_TENANT;
}

/** Serial keys, tenants, grants, take-backs and limits: the tenant permission in the default tenant. */
export function canManageSystem(session: Pick<Session, 'account'>): boolean {
  return isSystem(session) && can(session, PERMISSIONS.tenants);
}

/** Assign, unassign, uninstall, PAM seats: both Client and license permissions. */
export function canManageClients(session: Session): boolean {
  return can(session, PERMISSIONS.clients, PERMISSIONS.licenses);
}

/** The current session, or null when nobody is signed in (401). */
export async function loadSession(): Promise<Session | null> {
  try {
    const s = await api.get<{ account: Account; csrfToken: string | null; expiresAt: number | null }>('/auth/session', { quiet401: true });
    setCsrfToken(s.csrfToken);
    return { account: s.account, csrfToken: s.csrfToken, expiresAt: s.expiresAt };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

export async function signIn(name: string, password: string): Promise<Session> {
  const s = await api.post<{ account: Account; csrfToken: string; expiresAt: number }>('/auth/login', { name, password }, { quiet401: true });
  setCsrfToken(s.csrfToken);
  return { account: s.account, csrfToken: s.csrfToken, expiresAt: s.expiresAt };
}

export async function signOut(): Promise<void> {
  try {
    await api.post('/auth/logout', {}, { quiet401: true });
  } finally {
    setCsrfToken(null);
  }
}
