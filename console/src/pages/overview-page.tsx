/** `#/overview`: the tenant at a glance. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ErrorBanner } from '../components/error-banner.tsx';
import type { PageProps } from './page-props.ts';

interface Pool {
  type: string;
  granted: number;
  assigned: number;
  available: number;
  waiting: number;
}

export function OverviewPage(p: PageProps) {
  const [pools, setPools] = useState<Pool[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api
      .get<{ pools: Pool[] }>(`/tenants/${api.seg(p.tenantId)}`)
      .then((t) => setPools(t.pools))
      .catch(setError);
  }, [p.tenantId]);
  return (
    <section>
      <h1>Overview</h1>
      <ErrorBanner error={error} />
      {pools && (
        <ul>
          {pools.map((x) => (
            <li key={x.type}>
              {x.type}: {x.assigned} licensed, {x.waiting} waiting
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
