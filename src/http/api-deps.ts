/**
 * What the admin API's route modules share (src/http/routes/*-routes.ts): the ledger's Redis
 * context for reads (scoped to the principal's tenant, T6), one AdminClient for changes (each
 * call passes `actor: principal.actor` and the request's idempotency key: A1–A5), the logger.
 */
import type { Logger } from 'pino';
import type { AdminClient } from '../admin/client.ts';
import type { EventFeedHub } from '../events/event-feed.ts';
import type { LedgerContext } from '../licensing/ledger-context.ts';
import type { RedisTarget } from '../store/redis-target.ts';

export interface ApiDeps {
  ctx: LedgerContext;
  /** Shared by every request; never call it without `actor` (its own actor is nobody's). */
  admin: AdminClient;
  /** Where Redis is (for modules that need their own connection, e.g. blocking reads). */
  redisTarget: RedisTarget;
  logger: Logger;
  /** The process's shared event readers for `GET /events` (SPEC H3); createAdminHttp makes one. */
  events?: EventFeedHub;
  /** Admin session lifetimes (SESSION_IDLE_MINUTES, SESSION_MAX_HOURS); default 30 min idle, 12 h at most. */
  sessionTimes?: import('../accounts/sessions.ts').SessionTimes;
}

/** A route module: the routes it adds to the API, built from the shared dependencies. */
export type RouteModule = (deps: ApiDeps) => import('./route.ts').AnyRoute[];
