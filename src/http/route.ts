/**
 * One admin API route (SPEC H1): method, path, the zod schemas of what it takes and gives, and
 * its handler. The router (./router.ts) validates both directions with these schemas and the
 * OpenAPI document (./openapi.ts) is generated from the same ones, so the document cannot drift
 * from the code.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { Principal } from './principal.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** Set for every route whose `auth` is 'account' (the router refuses the request otherwise). */
  principal: Principal | null;
  /** The `Idempotency-Key` header (routes with `idempotent`): becomes the admin job id (A3). */
  idempotencyKey: string | undefined;
  /** The peer address (X-Forwarded-For only from TRUSTED_PROXIES). */
  sourceAddress: string;
  req: IncomingMessage;
  res: ServerResponse;
}

export interface RouteDef<P = unknown, Q = unknown, B = unknown, R = unknown> {
  method: HttpMethod;
  /** OpenAPI path template below /api/v1, e.g. `/tenants/{tenantId}/clients/{clientId}`. */
  path: string;
  operationId: string;
  summary: string;
  /** Groups routes in the OpenAPI document (`Clients`, `Serial keys`, …). */
  tag: string;
  /** 'account': a session or API token is required (401 without); 'none': open (login, set-up). */
  auth: 'account' | 'none';
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Accepts an `Idempotency-Key` header (changes that run as admin jobs). */
  idempotent?: boolean;
  /** Success status (default 200) and the schema every answer is validated against. */
  status?: number;
  response: z.ZodType<R>;
  /**
   * The handler writes the response itself (server-sent events, CSV): `contentType` is what the
   * OpenAPI document says it sends; `response` then documents it (a string schema).
   */
  raw?: { contentType: string };
  handler(ctx: RouteContext<P, Q, B>): Promise<R>;
}

/** Identity with inference: `route({ … })` types the handler's ctx from the schemas. */
export function route<P = Record<string, never>, Q = Record<string, never>, B = undefined, R = unknown>(def: RouteDef<P, Q, B, R>): RouteDef<P, Q, B, R> {
  return def;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteDef<any, any, any, any>;
