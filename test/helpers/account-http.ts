/**
 * The account routes (auth, accounts, tokens) behind a real ApiRouter on a plain node:http
 * server, with the real authenticator and Redis (SPEC H2 tests). `x-test-source` stands in for
 * the peer address, so one test can log in "from" several addresses.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { createAuthenticator } from '../../src/accounts/authenticator.ts';
import type { SessionTimes } from '../../src/accounts/sessions.ts';
import type { AdminClient } from '../../src/admin/client.ts';
import type { ApiDeps } from '../../src/http/api-deps.ts';
import { ApiRouter } from '../../src/http/router.ts';
import { accountRoutes } from '../../src/http/routes/account-routes.ts';
import { authRoutes } from '../../src/http/routes/auth-routes.ts';
import { tokenRoutes } from '../../src/http/routes/token-routes.ts';
import type { Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import type { RedisTarget } from '../../src/store/redis-target.ts';

export interface AccountApi {
  url: string;
  call(method: string, path: string, options?: { body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

export async function startAccountApi(redis: RedisClient, keys: Keys, options: { sessionTimes?: SessionTimes; logger?: Logger } = {}): Promise<AccountApi> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const deps: ApiDeps = {
    ctx: { redis, keys, vendorKeys: [] },
    admin: {} as AdminClient, // the account routes run no admin job
    redisTarget: { kind: 'single', url: 'redis://unused' } as unknown as RedisTarget,
    logger,
    ...(options.sessionTimes ? { sessionTimes: options.sessionTimes } : {}),
  };
  const authenticator = createAuthenticator({ redis, keys, ...(options.sessionTimes ? { sessionTimes: options.sessionTimes } : {}) });
  const router = new ApiRouter({
    routes: [authRoutes, accountRoutes, tokenRoutes].flatMap((m) => m(deps)),
    authenticator,
    logger,
    clientAddress: (req) => (req.headers['x-test-source'] as string | undefined) ?? req.socket.remoteAddress ?? '',
  });
  const server: Server = createServer((req, res) => {
    void router.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers };
      const r = await fetch(`${url}/api/v1${path}`, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
      const text = await r.text();
      return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : undefined };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The lg_session cookie of a login answer, as a Cookie header value. */
export function sessionCookieOf(headers: Headers): string {
  const set = headers.get('set-cookie') ?? '';
  const m = /lg_session=([^;]*)/.exec(set);
  if (!m) throw new Error(`no lg_session cookie in ${JSON.stringify(set)}`);
  return `lg_session=${m[1]}`;
}
