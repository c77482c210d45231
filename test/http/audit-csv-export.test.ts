/**
 * SPEC A5, Z5: `GET /tenants/{t}/audit.csv` streams the trail page by page (1,000 entries per
 * read) up to `limit` rows, newest first, with a header row, CRLF lines, and formula-like cells
 * made inert. In-process admin API (createAdminHttp) on a real HTTP server, real Redis, a real
 * account and API token.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/admin/client.ts';
import { createAdminHttp } from '../../src/http/admin-http.ts';
import { auditRoutes } from '../../src/http/routes/audit-routes.ts';
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { createAuthenticator, createTestAccount } from '../helpers/accounts.ts';
import { ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, newKeys, redisTarget } from '../helpers/redis.ts';

let redis: RedisClient;
let keys: Keys;
let server: Server;
let admin: AdminClient;
let base: string;
let token: string;
const t0 = Date.now() - 600_000;
const N = 2_500;

beforeAll(async () => {
  redis = await connectRedis();
  keys = newKeys('csv');
  const p = redis.pipeline();
  for (let i = 1; i <= N; i++) {
    p.xadd(keys.audit(DEFAULT_TENANT), `${t0 + i}-0`, 'ts', String(t0 + i), 'holder', i === N ? '=HYPERLINK("http://evil")' : `c-${i}`, 'holderKind', 'client', 'type', 'linux',
      'action', 'assigned', 'before', '', 'after', 'linux', 'reason', i === N - 1 ? 'line1\nline2, "quoted"' : '', 'actor', 'system', 'cause', 'hello');
  }
  await p.exec();
  token = (await createTestAccount(redis, keys, { tenantId: DEFAULT_TENANT, permissions: [] })).apiToken;
  admin = new AdminClient({ connection: redisTarget(), prefix: keys.queuePrefix, actor: { userId: 'nobody', tenantId: DEFAULT_TENANT, permissions: [] } });
  const api = createAdminHttp({
    deps: { ctx: ledgerContext(redis, keys), admin, redisTarget: redisTarget(), logger: pino({ level: 'silent' }) },
    authenticator: createAuthenticator({ redis, keys }),
    modules: [auditRoutes],
    clientAddress: (req) => req.socket.remoteAddress ?? '',
    version: 'test',
    logger: pino({ level: 'silent' }),
  });
  server = createServer((req, res) => void api.handler(req, res).then((done) => done || res.writeHead(404).end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
});

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await admin?.close();
  redis?.disconnect();
});

/** RFC 4180 rows (quoted cells may hold CRLF, commas, doubled quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  const re = /"((?:[^"]|"")*)"(,|\r\n)/g;
  let row: string[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) {
    row.push(m[1]!.replace(/""/g, '"'));
    if (m[2] === '\r\n') {
      rows.push(row);
      row = [];
    }
  }
  return rows;
}

describe('audit CSV export', () => {
  it('A5 Z5: pages through the trail to `limit` rows, newest first, quoted and formula-safe', async () => {
    const res = await fetch(`${base}/tenants/default/audit.csv?limit=2100`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toContain('audit-default.csv');
    const rows = parseCsv(await res.text());
    expect(rows[0]).toEqual(['id', 'ts', 'tenant', 'holder', 'holderKind', 'type', 'action', 'before', 'after', 'reason', 'actor', 'cause']);
    expect(rows).toHaveLength(2101);
    expect(rows[1]![3]).toBe(`'=HYPERLINK("http://evil")`);
    expect(rows[2]![9]).toBe('line1\nline2, "quoted"');
    const ts = rows.slice(1).map((r) => Number(r[1]));
    expect(ts[0]).toBe(t0 + N);
    expect(ts[ts.length - 1]).toBe(t0 + N - 2099);
    expect(new Set(ts).size).toBe(2100); // no row twice across the 1,000-entry pages
  });

  it('A5: filters apply to the export; another tenant is 403 before any byte of CSV', async () => {
    const res = await fetch(`${base}/tenants/default/audit.csv?since=${t0 + 1}&until=${t0 + 10}`, { headers: { authorization: `Bearer ${token}` } });
    expect(parseCsv(await res.text())).toHaveLength(11);
    const outsider = (await createTestAccount(redis, keys, { tenantId: 'tenant-x', permissions: [] })).apiToken;
    const other = await fetch(`${base}/tenants/default/audit.csv`, { headers: { authorization: `Bearer ${outsider}` } });
    expect(other.status).toBe(403);
    expect(other.headers.get('content-type')).toBe('application/problem+json');
  });
});
