/** Hash routes: `#/clients?online=true` → {page: 'clients', params}. */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** The first segment (`overview`, `clients`, …; '' for none). */
  page: string;
  /** Segments after the first (`#/keys/granted` → ['granted']). */
  rest: string[];
  params: URLSearchParams;
  /** The whole hash without '#'. */
  path: string;
}

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const [p, q = ''] = path.split('?', 2) as [string, string?];
  const segs = p.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  return { page: segs[0] ?? '', rest: segs.slice(1), params: new URLSearchParams(q), path };
}

export function navigate(path: string, o: { replace?: boolean } = {}): void {
  const hash = `#${path.startsWith('/') ? path : `/${path}`}`;
  if (o.replace) {
    history.replaceState(null, '', hash);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = hash;
  }
}

/** A page's own query (filters) written to the address without a new history entry. */
export function replaceParams(route: Route, params: Record<string, string | undefined>): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  const base = `/${[route.page, ...route.rest].map(encodeURIComponent).join('/')}`;
  history.replaceState(null, '', `#${base}${s ? `?${s}` : ''}`);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
