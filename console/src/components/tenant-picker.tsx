/** The tenant a default-tenant account works on (GET /tenants); other accounts have only their own. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';

export interface TenantSummary {
  id: string;
  name: string;
  createdAt: number;
}

export function TenantPicker(p: { value: string; onChange(tenantId: string): void; id?: string }) {
  const [tenants, setTenants] = useState<TenantSummary[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    api
      .get<TenantSummary[]>('/tenants')
      .then((t) => live && setTenants(t))
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
    };
  }, []);
  const id = p.id ?? 'tenant-picker';
  const list = tenants ?? [{ id: p.value, name: p.value, createdAt: 0 }];
  return (
    <span class="tenant-picker">
      <label for={id}>Tenant</label>
      <select id={id} value={p.value} onChange={(e) => p.onChange((e.currentTarget as HTMLSelectElement).value)} disabled={failed && !tenants}>
        {!list.some((t) => t.id === p.value) && <option value={p.value}>{p.value}</option>}
        {list.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name && t.name !== t.id ? `${t.name} (${t.id})` : t.id}
          </option>
        ))}
      </select>
    </span>
  );
}
