/**
 * Every Redis key and channel licensegate uses is named here, and only here (like BullMQ's
 * queue-keys.ts). Per-tenant state shares the hash tag `{t:<tenant>}` so that one Lua script can
 * register, assign and free inside a tenant atomically, on a single Redis or a Cluster.
 *
 * Lua scripts receive a tenant's base (`<prefix>:{t:<tenant>}:`) and build the per-tenant keys
 * with functions generated from TENANT_SEGMENTS (see luaKeyPrelude), so the names below stay
 * the single source of truth for both sides.
 */

/** Suffixes of per-tenant keys, after `<prefix>:{t:<tenant>}:`. */
export const TENANT_SEGMENTS = {
  /** hash: name, enrollToken, enrollTokenHash, createdAt */
  tenant: 'tenant',
  /** hash: license type → granted count (assigned is derived from holders, SPEC L5) */
  pool: 'pool',
  /** set: every client id registered in the tenant */
  clients: 'clients',
  /** hash: client id → connection token (`<node>:<conn>`) of online Clients */
  online: 'online',
  /** hash per Client (+ `:<clientId>`): credHash, status, type, reason, seq, acked, os…, lastSeen, conn */
  client: 'client:',
  /** stream per Client (+ `:<clientId>`): its durable command log, entry ids `0-<seq>` */
  commands: 'cmds:',
  /** set per license type (+ `<type>`): client ids holding a license of that type (SPEC L5) */
  holders: 'holders:',
  /** sorted set per license type (+ `<type>`): client ids waiting for one, score = since (ms) */
  waiting: 'waiting:',
} as const;

export class Keys {
  constructor(readonly prefix = 'lg') {
    if (!/^[A-Za-z0-9_.:-]{1,32}$/.test(prefix)) throw new Error(`invalid key prefix ${JSON.stringify(prefix)}`);
  }

  /** Base of every key of one tenant; what Lua scripts receive as ARGV[1]. */
  tenantBase(tenantId: string): string {
    return `${this.prefix}:{t:${tenantId}}:`;
  }
  tenant(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.tenant;
  }
  pool(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.pool;
  }
  clients(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.clients;
  }
  online(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.online;
  }
  client(tenantId: string, clientId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.client + clientId;
  }
  commands(tenantId: string, clientId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.commands + clientId;
  }
  holders(tenantId: string, type: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.holders + type;
  }
  waiting(tenantId: string, type: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.waiting + type;
  }

  /** set: every tenant id. */
  tenants(): string {
    return `${this.prefix}:tenants`;
  }
  /** hash: client id → tenant id, claimed at first enrollment (a client id lives in one tenant). */
  clientTenant(): string {
    return `${this.prefix}:{g}:client-tenant`;
  }
  /** sorted set: gateway node id → time of its last liveness beat (ms). */
  nodes(): string {
    return `${this.prefix}:nodes`;
  }
  /** pub/sub channel of one gateway node: the doorbell for its connections. */
  nodeChannel(nodeId: string): string {
    return `${this.prefix}:node:${nodeId}`;
  }
}

/** Lua functions that build per-tenant keys from ARGV[1] (the tenant base). */
export function luaKeyPrelude(): string {
  const s = TENANT_SEGMENTS;
  const q = (v: string) => JSON.stringify(v);
  return [
    'local BASE = ARGV[1]',
    `local K_TENANT = BASE .. ${q(s.tenant)}`,
    `local K_POOL = BASE .. ${q(s.pool)}`,
    `local K_CLIENTS = BASE .. ${q(s.clients)}`,
    `local K_ONLINE = BASE .. ${q(s.online)}`,
    `local function kClient(id) return BASE .. ${q(s.client)} .. id end`,
    `local function kCommands(id) return BASE .. ${q(s.commands)} .. id end`,
    `local function kHolders(t) return BASE .. ${q(s.holders)} .. t end`,
    `local function kWaiting(t) return BASE .. ${q(s.waiting)} .. t end`,
  ].join('\n');
}
