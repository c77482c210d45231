/**
 * The admin API's router (SPEC H1): routing, authentication gate, schema validation in both
 * directions and problem-details errors, on a real HTTP server (the health port's handler chain).
 * The authenticator here is a fixture of the Authenticator interface: accounts have their own tests.
 */
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LicensegateError } from '../../src/errors.ts';
import { startHealthServer } from '../../src/gateway/health-server.ts';
import type { HttpOrHttpsServer } from '../../src/gateway/tls-context.ts';
import { openApiDocument } from '../../src/http/openapi.ts';
import type { Authenticator } from '../../src/http/principal.ts';
import { route, type AnyRoute } from '../../src/http/route.ts';
import { ApiRouter } from '../../src/http/router.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';

const routes: AnyRoute[] = [
  route({
    method: 'GET',
    path: '/things/{thingId}',
    operationId: 'getThing',
    summary: 'a thing',
    tag: 'Test',
    auth: 'account',
    params: z.object({ thingId: z.string().regex(/^[a-z]+$/) }),
    query: z.object({ n: z.coerce.number().int().min(1).max(5).default(1) }),
    response: z.object({ id: z.string(), n: z.number(), by: z.string() }),
    handler: async ({ params, query, principal }) => ({ id: params.thingId, n: query.n, by: principal!.accountId }),
  }),
  route({
    method: 'POST',
    path: '/things',
    operationId: 'createThing',
    summary: 'make a thing',
    tag: 'Test',
    auth: 'account',
    idempotent: true,
    status: 201,
    body: z.strictObject({ name: z.string().min(1) }),
    response: z.object({ name: z.string(), key: z.string().nullable() }),
    handler: async ({ body, idempotencyKey }) => {
      if (body.name === 'forbidden') throw new LicensegateError('FORBIDDEN', 'not yours');
      return { name: body.name, key: idempotencyKey ?? null };
    },
  }),
  route({
    method: 'GET',
    path: '/broken',
    operationId: 'broken',
    summary: 'answers outside its schema',
    tag: 'Test',
    auth: 'none',
    response: z.object({ ok: z.literal(true) }),
    handler: async () => ({ ok: 'yes' }) as unknown as { ok: true },
  }),
];

const authenticator: Authenticator = {
  authenticate: async (req) => (req.headers.authorization === 'Bearer good' ? { accountId: 'acct-1', actor: TECHNICIAN, via: 'token' } : null),
};

let server: HttpOrHttpsServer;
let base: string;

beforeAll(async () => {
  const router = new ApiRouter({ routes, authenticator, logger: pino({ level: 'silent' }), clientAddress: (req) => req.socket.remoteAddress ?? '' });
  const started = await startHealthServer('127.0.0.1', 0, { ready: true, connectionCount: 0 }, null, undefined, [router.handle]);
  server = started.server;
  base = `http://127.0.0.1:${(started.address as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const auth = { authorization: 'Bearer good' };
async function call(path: string, init: RequestInit = {}): Promise<{ status: number; type: string; body: Record<string, unknown> }> {
  const res = await fetch(base + path, init);
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('H1 admin API router', () => {
  it('H1: routes with params and coerced query, and answers JSON validated by the response schema', async () => {
    const r = await call('/api/v1/things/abc?n=3', { headers: auth });
    expect(r).toMatchObject({ status: 200, body: { id: 'abc', n: 3, by: 'acct-1' } });
    expect(r.type).toBe('application/json');
  });

  it('H1/H2: a route that needs an account answers 401 UNAUTHENTICATED without one, as problem details', async () => {
    const r = await call('/api/v1/things/abc');
    expect(r.status).toBe(401);
    expect(r.type).toBe('application/problem+json');
    expect(r.body).toMatchObject({ code: 'UNAUTHENTICATED', status: 401, type: 'urn:licensegate:error:UNAUTHENTICATED', instance: '/api/v1/things/abc' });
  });

  it('H1: unknown paths are ROUTE_NOT_FOUND, wrong methods METHOD_NOT_ALLOWED, other paths fall through to the health port', async () => {
    expect((await call('/api/v1/nothing', { headers: auth })).body.code).toBe('ROUTE_NOT_FOUND');
    expect((await call('/api/v1/things/abc', { method: 'DELETE', headers: auth })).body.code).toBe('METHOD_NOT_ALLOWED');
    expect(await call('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('H1: params, query and body outside their schemas are 422 INVALID_REQUEST naming each field', async () => {
    const p = await call('/api/v1/things/ABC?n=9', { headers: auth });
    expect(p.status).toBe(422);
    const fields = (p.body.errors as { path: string }[]).map((e) => e.path).sort();
    expect(fields).toEqual(['params.thingId', 'query.n']);
    const b = await call('/api/v1/things', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: '', extra: 1 }) });
    expect(b.status).toBe(422);
    expect(b.body.code).toBe('INVALID_REQUEST');
    const notJson = await call('/api/v1/things', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{' });
    expect(notJson.body.code).toBe('INVALID_REQUEST');
    const wrongType = await call('/api/v1/things', { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: '{"name":"x"}' });
    expect(wrongType).toMatchObject({ status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    const big = await call('/api/v1/things', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x'.repeat(100_000) }) });
    expect(big).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('H1/A3: the Idempotency-Key header reaches the handler, and a malformed one is refused', async () => {
    const post = (key: string) => call('/api/v1/things', { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify({ name: 'n' }) });
    expect(await post('retry-1')).toMatchObject({ status: 201, body: { name: 'n', key: 'retry-1' } });
    expect((await post('bad key!')).body.code).toBe('INVALID_REQUEST');
  });

  it('H1: coded errors keep their catalogue status; an answer outside its schema is a 500, not a lie', async () => {
    const f = await call('/api/v1/things', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'forbidden' }) });
    expect(f).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(await call('/api/v1/broken')).toMatchObject({ status: 500, body: { code: 'INTERNAL_ERROR' } });
  });

  it('H1: the OpenAPI 3.1 document is generated from the same schemas', () => {
    const doc = openApiDocument(routes, '0.0.0') as { openapi: string; paths: Record<string, Record<string, { operationId: string; parameters: { name: string; in: string }[] }>> };
    expect(doc.openapi).toBe('3.1.0');
    const get = doc.paths['/api/v1/things/{thingId}']!.get!;
    expect(get.operationId).toBe('getThing');
    expect(get.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(['path:thingId', 'query:n']);
    expect(doc.paths['/api/v1/things']!.post!.parameters.map((p) => p.name)).toContain('Idempotency-Key');
  });
});
