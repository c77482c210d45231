/**
 * AdminApi over the admin HTTP API (SPEC H1): `licensegate admin --server https://… --token …`
 * drives a licensegate it cannot reach through Redis. The server authenticates the token's
 * account and checks its permissions; this side only translates. A problem answer becomes the
 * same coded error the direct mode prints (AdminJobError: `CODE: detail`).
 *
 * Every change carries a fresh Idempotency-Key, so the one retry after a connection failure
 * (no answer read) cannot apply a change twice (A3).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { LicensegateError } from '../errors.ts';
import type { AuditPage } from '../licensing/audit.ts';
import type { SerialKeyRecord } from '../licensing/serial-key-ledger.ts';
import type { ClientRow } from '../licensing/views.ts';
import type { AdminApi } from './admin-api.ts';
import { AdminJobError } from './client.ts';

export interface HttpAdminOptions {
  /** The licensegate HTTP port's base URL (`https://licensegate.example:8081`). */
  server: string;
  /** An API token (`licensegate admin tokens create`, or the console). */
  token: string;
  /** PEM file of a private CA that signed the server's certificate. */
  caFile?: string | undefined;
  /** Per request; admin jobs take up to the server's job timeout (30 s). Default 60 000 ms. */
  timeoutMs?: number;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const seg = encodeURIComponent;

export function httpAdminApi(options: HttpAdminOptions): AdminApi {
  let base: URL;
  try {
    base = new URL(options.server);
  } catch {
    throw new LicensegateError('CONFIG_INVALID', `--server: not a URL: ${options.server}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new LicensegateError('CONFIG_INVALID', '--server: must be an http:// or https:// URL');
  let ca: Buffer | undefined;
  if (options.caFile !== undefined) {
    try {
      ca = readFileSync(options.caFile);
    } catch (err) {
      throw new LicensegateError('CONFIG_INVALID', `--ca: ${(err as Error).message}`);
    }
  }
  const agent = base.protocol === 'https:' ? new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}) }) : new http.Agent({ keepAlive: true });
  const timeoutMs = options.timeoutMs ?? 60_000;
  const prefix = base.pathname.replace(/\/+$/, '');

  function once<T>(method: Method, path: string, body: unknown, key: string | undefined): Promise<T> {
    const url = new URL(`${prefix}/api/v1${path}`, base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}`, accept: 'application/json' };
    if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(payload.length) });
    if (key) headers['idempotency-key'] = key;
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = lib.request(url, { method, headers, agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            return reject(new LicensegateError('INTERNAL_ERROR', `${method} ${url.pathname}: HTTP ${res.statusCode} with a body that is not JSON (is --server the licensegate HTTP port?)`));
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(json as T);
          const problem = json as { code?: unknown; detail?: unknown } | undefined;
          if (problem && typeof problem.code === 'string') return reject(new AdminJobError(problem.code, typeof problem.detail === 'string' ? problem.detail : problem.code, key ?? ''));
          reject(new LicensegateError('INTERNAL_ERROR', `${method} ${url.pathname}: HTTP ${status}`));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer after ${timeoutMs} ms`)));
      req.on('error', (err) => reject(Object.assign(new LicensegateError('API_UNAVAILABLE', `${base.origin}: ${err.message}`), { transport: true })));
      req.end(payload);
    });
  }

  /** One retry after a transport failure: changes carry an Idempotency-Key, so it is safe. */
  async function call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const key = method === 'GET' ? undefined : `cli-${randomUUID()}`;
    try {
      return await once<T>(method, path, body, key);
    } catch (err) {
      if (!(err as { transport?: boolean }).transport) throw err;
      return once<T>(method, path, body, key);
    }
  }

  const query = (q: Record<string, string | number | undefined>) => {
    const s = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined) s.set(k, String(v));
    const text = s.toString();
    return text ? `?${text}` : '';
  };

  return {
    activateSerial: (key) => call('POST', '/serial-keys', { key }),
    removeSerial: (keyId) => call('DELETE', `/serial-keys/${seg(keyId)}`),
    // The API leaves out the key's own text (serial-key-routes.ts).
    listSerials: async () => (await call<Omit<SerialKeyRecord, 'key'>[]>('GET', '/serial-keys')).map((r) => ({ ...r, key: '' })),
    availability: () => call('GET', '/licenses'),
    createTenant: (name, tenantId) => call('POST', '/tenants', { name, ...(tenantId === undefined ? {} : { tenantId }) }),
    showTenant: (tenantId) => call('GET', `/tenants/${seg(tenantId)}`),
    renameTenant: (tenantId, name) => call('PATCH', `/tenants/${seg(tenantId)}`, { name }),
    deleteTenant: (tenantId) => call('DELETE', `/tenants/${seg(tenantId)}`),
    rotateEnrollmentToken: (tenantId, graceSeconds) => call('POST', `/tenants/${seg(tenantId)}/rotate-token`, { graceSeconds }),
    listTenants: () => call('GET', '/tenants'),
    grant: (tenantId, type, count) => call('POST', `/tenants/${seg(tenantId)}/grants`, { type, count }),
    takeBack: (tenantId, type, count, force) => call('POST', `/tenants/${seg(tenantId)}/take-back`, { type, count, force }),
    licensesGranted: () => call('GET', '/licenses-granted'),
    // Pages of the list route (docs/client-pages.md), followed to the end: the CLI prints them all.
    listClients: async (tenantId, filter) => {
      const rows: ClientRow[] = [];
      let cursor: string | undefined;
      do {
        const page = await call<{ items: ClientRow[]; nextCursor: string | null }>('GET', `/tenants/${seg(tenantId)}/clients${query({ filter, limit: 1000, cursor })}`);
        rows.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      return rows;
    },
    clientsPage: (tenantId, q) => call('GET', `/tenants/${seg(tenantId)}/clients${query({ limit: q.limit, cursor: q.cursor, filter: q.filter, type: q.type, search: q.search })}`),
    assignClient: (tenantId, clientId, opts) => call('POST', `/tenants/${seg(tenantId)}/clients/${seg(clientId)}/assign`, { ...(opts.type ? { type: opts.type } : {}), force: opts.force ?? false }),
    unassignClient: (tenantId, clientId) => call('POST', `/tenants/${seg(tenantId)}/clients/${seg(clientId)}/unassign`),
    uninstallClient: (tenantId, clientId) => call('POST', `/tenants/${seg(tenantId)}/clients/${seg(clientId)}/uninstall`),
    getPolicy: (tenantId) => call('GET', `/tenants/${seg(tenantId)}/policy`),
    setPolicy: (tenantId, policy) => call('PUT', `/tenants/${seg(tenantId)}/policy`, policy),
    audit: (tenantId, q) => call<AuditPage>('GET', `/tenants/${seg(tenantId)}/audit${query({ ...q })}`),
    setLimits: (tenantId, change) => call('PUT', `/tenants/${seg(tenantId)}/limits`, change),
    createUser: (tenantId, name, userId) => call('POST', `/tenants/${seg(tenantId)}/users`, { name, ...(userId === undefined ? {} : { userId }) }),
    listPamUsers: (tenantId) => call('GET', `/tenants/${seg(tenantId)}/users`),
    pamAssign: (tenantId, userId) => call('PUT', `/tenants/${seg(tenantId)}/users/${seg(userId)}/pam-seat`),
    pamUnassign: (tenantId, userId) => call('DELETE', `/tenants/${seg(tenantId)}/users/${seg(userId)}/pam-seat`),
    actorTenant: async () => (await call<{ account: { tenantId: string } }>('GET', '/auth/session')).account.tenantId,
    async close() {
      agent.destroy();
    },
  };
}
