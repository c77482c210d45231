/**
 * The console's shell (SPEC H5; docs/console.md): header (account, tenant, sign-out), the nav of
 * the pages this account may use, the hash router and the page table. Signed out (or when the
 * session ends: any 401) the sign-in page is shown, with a message when a session expired.
 */
import type { ComponentType } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { asApiError, setUnauthorizedHandler } from './api.ts';
import { TenantPicker } from './components/tenant-picker.tsx';
import { ToastHost } from './components/toast.tsx';
import type { PageProps } from './pages/page-props.ts';
import { SignInPage } from './pages/sign-in-page.tsx';
import { navigate, useRoute } from './router.ts';
import { isSystem, loadSession, signOut, type Session } from './session.ts';

// ---- Pages: one import and one table entry each. ----

import { OverviewPage } from './pages/overview-page.tsx';

import { ClientsPage } from './pages/clients-page.tsx';

import { KeysPage } from './pages/keys-page.tsx';

import { GrantedPage } from './pages/granted-page.tsx';

import { TenantsPage } from './pages/tenants-page.tsx';

import { UsersPage } from './pages/users-page.tsx';

import { AuditPage } from './pages/audit-page.tsx';

export interface PageDef {
  /** The hash route: `#/<path>`. */
  path: string;
  /** The nav label and the document title. */
  title: string;
  component: ComponentType<PageProps>;
  /** Shown in the nav and reachable only when this says so (default: every signed-in account). */
  visible?(session: Session): boolean;
}

export const PAGES: PageDef[] = [
  { path: 'overview', title: 'Overview', component: OverviewPage },

  { path: 'clients', title: 'License Management', component: ClientsPage },

  { path: 'keys', title: 'Serial Keys', component: KeysPage, visible: isSystem },

  { path: 'granted', title: 'Licenses Granted', component: GrantedPage, visible: isSystem },

  { path: 'tenants', title: 'Tenants', component: TenantsPage },

  { path: 'users', title: 'User Management', component: UsersPage },

  { path: 'audit', title: 'Audit', component: AuditPage },
];

// ---- end of the page table ----

export function visiblePages(session: Session): PageDef[] {
  return PAGES.filter((p) => !p.visible || p.visible(session));
}

const TENANT_KEY = 'licensegate.tenant';

function initialTenant(session: Session): string {
  if (!isSystem(session)) return session.account.tenantId;
  try {
    return sessionStorage.getItem(TENANT_KEY) ?? session.account.tenantId;
  } catch {
    return session.account.tenantId;
  }
}

export function App() {
  const route = useRoute();
  /** undefined: still asking the server; null: signed out. */
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [tenantId, setTenantId] = useState<string>('default');
  const [notice, setNotice] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const main = useRef<HTMLElement>(null);

  const signedIn = useCallback((s: Session) => {
    setSession(s);
    setTenantId(initialTenant(s));
    setNotice(null);
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setSession((s) => {
        if (s) setNotice('Your session has ended (signed out or expired). Sign in again.');
        return null;
      });
    });
    loadSession()
      .then((s) => (s ? signedIn(s) : setSession(null)))
      .catch((err: unknown) => {
        setLoadError(err);
        setSession(null);
      });
    return () => setUnauthorizedHandler(null);
  }, [signedIn]);

  // The session's absolute end (SESSION_MAX_HOURS): ask the server then, so that an idle page
  // returns to the sign-in page with the message instead of failing on the next click.
  useEffect(() => {
    if (!session?.expiresAt) return;
    const wait = Math.min(2_147_000_000, Math.max(0, session.expiresAt - Date.now()) + 1_000);
    const timer = setTimeout(() => {
      loadSession()
        .then((s) => {
          if (!s) {
            setNotice('Your session has ended (signed out or expired). Sign in again.');
            setSession(null);
          }
        })
        .catch(() => {});
    }, wait);
    return () => clearTimeout(timer);
  }, [session?.expiresAt]);

  // Signed out: the address says so (and remembers where to come back to).
  useEffect(() => {
    if (session === null && route.page !== 'sign-in') {
      const next = route.path && route.page ? `?next=${encodeURIComponent(route.path)}` : '';
      navigate(`/sign-in${next}`, { replace: true });
    } else if (session && (route.page === 'sign-in' || route.page === '')) {
      const next = route.params.get('next');
      navigate(next && !next.startsWith('/sign-in') ? next : '/overview', { replace: true });
    }
  }, [session, route.page, route.path]);

  const pages = session ? visiblePages(session) : [];
  const page = pages.find((p) => p.path === route.page);
  useEffect(() => {
    document.title = session === null ? 'Sign in · licensegate' : page ? `${page.title} · licensegate` : 'licensegate';
    // A new page: focus its main region so that screen readers and keyboards start there.
    if (session && page) main.current?.focus({ preventScroll: true });
  }, [page?.path, session === null]);

  if (session === undefined) {
    return (
      <main id="main" class="loading" aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  }
  if (session === null) {
    return (
      <>
        <SignInPage notice={notice} error={loadError ? asApiError(loadError) : null} onSignedIn={signedIn} />
        <ToastHost />
      </>
    );
  }

  const onSignOut = async () => {
    try {
      await signOut();
    } catch {
      /* the session is dropped here anyway */
    }
    setNotice('You are signed out.');
    setSession(null);
  };
  const onTenant = (t: string) => {
    setTenantId(t);
    try {
      sessionStorage.setItem(TENANT_KEY, t);
    } catch {
      /* private mode: not remembered */
    }
  };
  const Page = page?.component;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <div class="brand">licensegate</div>
        <nav aria-label="Pages" class="pages">
          <ul>
            {pages.map((p) => (
              <li key={p.path}>
                <a href={`#/${p.path}`} aria-current={p.path === route.page ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          {isSystem(session) ? (
            <TenantPicker value={tenantId} onChange={onTenant} />
          ) : (
            <span class="tenant" title="Your tenant">
              Tenant <strong>{session.account.tenantId}</strong>
            </span>
          )}
          <span class="account" data-testid="account-name">
            {session.account.name}
            {session.account.permissions.length === 0 ? <span class="badge">read-only</span> : null}
          </span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {Page ? (
          <Page key={`${page.path}:${tenantId}`} session={session} route={route} tenantId={tenantId} />
        ) : (
          <section>
            <h1>Not found</h1>
            <p>
              There is no page <code>#{route.path}</code> for this account. <a href="#/overview">Go to the overview</a>.
            </p>
          </section>
        )}
      </main>
      <ToastHost />
    </>
  );
}
