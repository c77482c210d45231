/**
 * The OpenAPI 3.1 document of the admin API (SPEC H1), generated from the routes' zod schemas
 * (zod's own JSON Schema output, draft 2020-12 — the dialect OpenAPI 3.1 uses). Served at
 * `/api/v1/openapi.json`; the tests validate every answer against it.
 */
import { z } from 'zod';
import type { AnyRoute } from './route.ts';
import { API_BASE } from './router.ts';
import { PROBLEM_CONTENT_TYPE } from './problem.ts';

type Json = Record<string, unknown>;

const problemSchema: Json = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string', description: 'stable code from the error catalogue (README, Errors)' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
  delete out.$schema;
  return out;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
  if (!schema) return [];
  const s = jsonSchema(schema, 'input');
  const props = (s.properties ?? {}) as Record<string, Json>;
  const required = new Set((s.required ?? []) as string[]);
  return Object.entries(props).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(typeof p.description === 'string' ? { description: p.description } : {}),
    schema: p,
  }));
}

export function openApiDocument(routes: readonly AnyRoute[], version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const op: Json = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      parameters: [
        ...parameters(r.params, 'path'),
        ...parameters(r.query, 'query'),
        ...(r.idempotent
          ? [{ name: 'Idempotency-Key', in: 'header', required: false, description: 'becomes the admin job id: a repeat returns the first result (SPEC A3)', schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' } }]
          : []),
      ],
      responses: {
        [String(r.status ?? 200)]: {
          description: 'success',
          content: { [r.raw?.contentType ?? 'application/json']: { schema: jsonSchema(r.response, 'output') } },
        },
        default: { description: 'an error with its catalogue code', content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } },
      },
      ...(r.auth === 'account' ? {} : { security: [] }),
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } };
    (paths[API_BASE + r.path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'licensegate admin API', version, description: 'Everything the licensegate admin CLI does (docs/api.md). Changes run as admin jobs with the signed-in account as actor.' },
    paths,
    components: {
      schemas: { Problem: problemSchema },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API token (`licensegate admin tokens create`)' },
        session: { type: 'apiKey', in: 'cookie', name: 'lg_session', description: 'a console session; unsafe methods also need the X-CSRF-Token header' },
      },
    },
    security: [{ bearer: [] }, { session: [] }],
  };
}
