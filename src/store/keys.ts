/**
 * Every Redis key and channel licensegate uses is named here, and only here (like BullMQ's
 * queue-keys.ts). Per-tenant state shares the hash tag `{t:<tenant>}` so that one Lua script can
 * register, assign and free inside a tenant atomically, on a single Redis or a Cluster.
 *
 * Lua scripts receive a tenant's base (`<prefix>:{t:<tenant>}:`) and build the per-tenant keys
 * with functions generated from TENANT_SEGMENTS (see luaKeyPrelude), so the names below stay
 * the single source of truth for both sides.
 */
import { DEFAULT_TENANT } from '../licensing/permission-names.ts';

/** Suffixes of per-tenant keys, after `<prefix>:{t:<tenant>}:`. */
export const TENANT_SEGMENTS = {
  /** hash: name, enrollTokenHash, prevEnrollTokenHash, prevEnrollTokenUntil, createdAt; limits (Z3): requireProof, maxClients, enrollRate, enrollBurst, enrollTokens, enrollAt */
  tenant: 'tenant',
  /** hash: `<keyId>|<type>` → licenses of that serial key allocated to this tenant */
  alloc: 'alloc',
  /** hash: serial key id → its expiry (ms, 0 = never), for every key with an allocation or holders here */
  keys: 'keys',
  /** set: every client id registered in the tenant */
  clients: 'clients',
  /** hash: client id → connection token (`<node>:<conn>`) of online Clients */
  online: 'online',
  /** string: a counter bumped in the same script as every change of `online` (connect, disconnect, uninstall): the live presence signal (H3; docs/live-events.md) */
  presence: 'presence',
  /** set: every PAM user id of the tenant */
  users: 'users',
  /** hash per Client (+ `<clientId>`): credHash, status, type, key, reason, seq, acked, os…, lastSeen */
  client: 'client:',
  /** hash per PAM user (+ `<userId>`): name, type ('pam-seat' when holding a seat), key, createdAt */
  user: 'user:',
  /** stream per Client (+ `<clientId>`): its durable command log, entry ids `0-<seq>` */
  commands: 'cmds:',
  /** set per license type (+ `<type>`): ids holding a license of that type (SPEC L5) */
  holders: 'holders:',
  /** set per serial key and type (+ `<keyId>:<type>`): holders whose license is charged to that key */
  keyHolders: 'kh:',
  /** sorted set per license type (+ `<type>`): client ids waiting for one, score = since (ms) */
  waiting: 'waiting:',
  /** sorted set per license type (+ `<type>`): holders that are offline, score = last seen (ms) (C11) */
  offlineHolders: 'offline-holders:',
  /** stream: events for the tenant's admin services (SPEC A6); the default tenant's also carries key events */
  events: 'events',
  /** stream: audit trail of every license change in the tenant (SPEC A5) */
  audit: 'audit',
  /** set: serial keys that ended (expired or removed) for this tenant; late grant steps skip them */
  ended: 'ended-keys',
  /** hash: saga step id → its JSON result, so a retried step has no second effect */
  ops: 'ops',
  /** string per operation (+ `<opId>`): its JSON result, so a retry returns it (SPEC A3, F3); expires after OP_RESULT_RETENTION_MS */
  opResult: 'op:',
  /** default tenant only — hash: `<kind>:<opId>` → JSON pending saga (grant, take-back) until its last step ran (SPEC F2; docs/sagas.md) */
  sagas: 'sagas',
  /** hash: license type → where its unfinished promotion of waiting Clients continues (C9, F6) */
  promoting: 'promoting',
  /** hash per batched operation (+ `<op id>`): its progress between bounded script calls (F6) */
  work: 'work:',
  /** list per batched take-back (+ `<op id>`): the ids it unassigned, in order (F6) */
  workLost: 'work-lost:',
  /** sorted set per batched operation (+ `<op id>`): holders ranked for losing a license (T4, F6) */
  victims: 'victims:',
  /** default tenant only — hash: serial key id → JSON record (payload, status, activatedAt) */
  serials: 'serials',
  /** default tenant only — hash: `<tenant>|<keyId>|<type>` → licenses granted to that tenant */
  grants: 'grants',
  /** sorted set: uninstalled client id → since when (ms; its last connect if later): the purge's index (Z5, docs/retention.md) */
  uninstalled: 'uninstalled',
  /** set: purged client ids whose claim in the global client→tenant map is still to be released (Z5) */
  releasedIds: 'released-ids',
  /** hash: the retention upkeep's progress in this tenant (index backfill cursor, legacy ops hash first seen) */
  retention: 'retention',
  /** sorted set, every score 0: every client id of `clients`, for paging in id order with ZRANGE BYLEX (H1; docs/client-pages.md) */
  clientIndex: 'client-index',
} as const;

/** Doorbell channel of one gateway node, after a tenant's base (+ `<nodeId>`). Lua scripts SPUBLISH to it too. */
export const NODE_CHANNEL_SEGMENT = 'node:';

/** The built-in default tenant (its admin is the technician); named in the dependency-free module the console shares. */
export { DEFAULT_TENANT };

/**
 * How long an operation's stored result answers its retries (SPEC A3, F3): as long as the
 * admin client keeps a finished job (removeOnComplete age), so a repeated idempotency key meets
 * either the job or its result. See docs/sagas.md.
 */
export const OP_RESULT_RETENTION_MS = 7 * 86_400_000;

/** BullMQ's default prefix for licensegate's queues: hash-tagged, so a queue lives in one slot. */
export const DEFAULT_QUEUE_PREFIX = '{licensegate}';

export class Keys {
  constructor(
    readonly prefix = 'lg',
    /** BullMQ prefix of licensegate's queues (QUEUE_PREFIX). */
    readonly queuePrefix = DEFAULT_QUEUE_PREFIX,
  ) {
    if (!/^[A-Za-z0-9_.:-]{1,32}$/.test(prefix)) throw new Error(`invalid key prefix ${JSON.stringify(prefix)}`);
    if (!/^\{[A-Za-z0-9_.:-]{1,40}\}$/.test(queuePrefix)) throw new Error(`invalid queue prefix ${JSON.stringify(queuePrefix)}: use {name}`);
  }

  /** Base of every key of one tenant; what Lua scripts receive as ARGV[1]. */
  tenantBase(tenantId: string): string {
    return `${this.prefix}:{t:${tenantId}}:`;
  }
  tenant(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.tenant;
  }
  alloc(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.alloc;
  }
  tenantKeys(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.keys;
  }
  users(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.users;
  }
  user(tenantId: string, userId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.user + userId;
  }
  keyHolders(tenantId: string, keyId: string, type: string): string {
    return `${this.tenantBase(tenantId) + TENANT_SEGMENTS.keyHolders + keyId}:${type}`;
  }
  audit(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.audit;
  }
  ops(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.ops;
  }
  serials(): string {
    return this.tenantBase(DEFAULT_TENANT) + TENANT_SEGMENTS.serials;
  }
  opResult(tenantId: string, opId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.opResult + opId;
  }
  sagas(): string {
    return this.tenantBase(DEFAULT_TENANT) + TENANT_SEGMENTS.sagas;
  }
  grants(): string {
    return this.tenantBase(DEFAULT_TENANT) + TENANT_SEGMENTS.grants;
  }
  clients(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.clients;
  }
  online(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.online;
  }
  presence(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.presence;
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
  promoting(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.promoting;
  }
  work(tenantId: string, opId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.work + opId;
  }
  workLost(tenantId: string, opId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.workLost + opId;
  }
  victims(tenantId: string, opId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.victims + opId;
  }
  uninstalled(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.uninstalled;
  }
  releasedIds(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.releasedIds;
  }
  retention(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.retention;
  }
  clientIndex(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.clientIndex;
  }

  /**
   * Admin accounts (SPEC H2, docs/accounts.md) share the hash tag `{accounts}`: the create
   * script checks the name index and writes the account in one slot. Secrets are stored only
   * as hashes (Z2).
   */
  accountsBase(): string {
    return `${this.prefix}:{accounts}:`;
  }
  /** hash: lower-cased login name → account id (names are unique case-insensitively). */
  accountNames(): string {
    return `${this.accountsBase()}names`;
  }
  /** set: every account id. */
  accountIds(): string {
    return `${this.accountsBase()}ids`;
  }
  /** set per tenant: the ids of its accounts. */
  tenantAccounts(tenantId: string): string {
    return `${this.accountsBase()}tenant:${tenantId}`;
  }
  /** hash per account: id, name, tenantId, permissions, createdAt, disabled, passwordHash (scrypt), credentialEpoch. */
  account(accountId: string): string {
    return `${this.accountsBase()}account:${accountId}`;
  }
  /** set per account: its API token ids. */
  accountTokens(accountId: string): string {
    return `${this.accountsBase()}tokens:${accountId}`;
  }
  /** hash per API token: accountId, name, secretHash (SHA-256), createdAt, expiresAt, lastUsedAt. */
  apiToken(tokenId: string): string {
    return `${this.accountsBase()}token:${tokenId}`;
  }
  /** hash per session, by the SHA-256 of its id (the id itself is never stored): accountId, credentialEpoch, createdAt, expiresAt; idle TTL. */
  session(sessionHash: string): string {
    return `${this.accountsBase()}session:${sessionHash}`;
  }
  /** hash per one-time set-up token, by its SHA-256: accountId, expiresAt; TTL = its lifetime. */
  setupToken(tokenHash: string): string {
    return `${this.accountsBase()}setup:${tokenHash}`;
  }
  /** string per account: the hash of its one live set-up token (a new link kills the old one). */
  accountSetupToken(accountId: string): string {
    return `${this.accountsBase()}setup-of:${accountId}`;
  }
  /** hash per lower-cased login name: consecutive failed logins and the backoff end (docs/accounts.md). */
  loginFailures(name: string): string {
    return `${this.accountsBase()}login-fail:${name}`;
  }
  /** counter per source address: failed logins in the current window (docs/accounts.md). */
  loginSourceFailures(address: string): string {
    return `${this.accountsBase()}login-src:${address}`;
  }

  /** set: every tenant id. */
  tenants(): string {
    return `${this.prefix}:tenants`;
  }
  /** hash: client id → tenant id, claimed at first enrollment (a client id lives in one tenant). */
  clientTenant(): string {
    return `${this.prefix}:{g}:client-tenant`;
  }
  /** hash: tenant id → the operation (job id) that claimed it, written before the tenant is built (SPEC F3). */
  tenantClaims(): string {
    return `${this.prefix}:{g}:tenant-claims`;
  }
  /** hash: a tenant name, trimmed and lower-cased → the op (job id) that claimed it, or `tenant:<id>` (issue 12: one tenant per name). */
  tenantNames(): string {
    return `${this.prefix}:{g}:tenant-names`;
  }
  /** stream: events for the tenant's admin services (SPEC A6), see the README. */
  events(tenantId: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.events;
  }
  offlineHolders(tenantId: string, type: string): string {
    return this.tenantBase(tenantId) + TENANT_SEGMENTS.offlineHolders + type;
  }
  /** sorted set: gateway node id → time of its last liveness beat (ms). */
  nodes(): string {
    return `${this.prefix}:nodes`;
  }
  /**
   * Sharded pub/sub channel of one gateway node for one tenant: the doorbell for its connections
   * of that tenant. In the tenant's slot, so that the tenant's scripts SPUBLISH to it on a Cluster
   * (src/gateway/doorbell-channels.ts).
   */
  doorbellChannel(tenantId: string, nodeId: string): string {
    return this.tenantBase(tenantId) + NODE_CHANNEL_SEGMENT + nodeId;
  }
}

/** Lua functions that build per-tenant keys from ARGV[1] (the tenant base). */
export function luaKeyPrelude(): string {
  const s = TENANT_SEGMENTS;
  const q = (v: string) => JSON.stringify(v);
  return [
    'local BASE = ARGV[1]',
    // BASE is `<prefix>:{t:<tenant>}:` (Keys.tenantBase); the prefix never holds '{'.
    "local PREFIX = string.sub(BASE, 1, string.find(BASE, ':{t:', 1, true) - 1)",
    "local TENANT_ID = string.sub(BASE, #PREFIX + 5, -3)",
    `local DEFAULT_TENANT_ID = ${q(DEFAULT_TENANT)}`,
    `local function kDoorbellChannel(node) return BASE .. ${q(NODE_CHANNEL_SEGMENT)} .. node end`,
    `local K_TENANT = BASE .. ${q(s.tenant)}`,
    `local K_ALLOC = BASE .. ${q(s.alloc)}`,
    `local K_KEYS = BASE .. ${q(s.keys)}`,
    `local K_CLIENTS = BASE .. ${q(s.clients)}`,
    `local K_ONLINE = BASE .. ${q(s.online)}`,
    `local K_PRESENCE = BASE .. ${q(s.presence)}`,
    `local K_USERS = BASE .. ${q(s.users)}`,
    `local K_AUDIT = BASE .. ${q(s.audit)}`,
    `local K_OPS = BASE .. ${q(s.ops)}`,
    `local K_SAGAS = BASE .. ${q(s.sagas)}`,
    `local function kOpResult(id) return BASE .. ${q(s.opResult)} .. id end`,
    `local OP_RESULT_TTL_MS = ${OP_RESULT_RETENTION_MS}`,
    `local K_ENDED = BASE .. ${q(s.ended)}`,
    `local K_EVENTS = BASE .. ${q(s.events)}`,
    `local function kOfflineHolders(t) return BASE .. ${q(s.offlineHolders)} .. t end`,
    `local K_SERIALS = BASE .. ${q(s.serials)}`,
    `local K_GRANTS = BASE .. ${q(s.grants)}`,
    `local function kClient(id) return BASE .. ${q(s.client)} .. id end`,
    `local function kUser(id) return BASE .. ${q(s.user)} .. id end`,
    `local function kCommands(id) return BASE .. ${q(s.commands)} .. id end`,
    `local function kHolders(t) return BASE .. ${q(s.holders)} .. t end`,
    `local function kKeyHolders(keyId, t) return BASE .. ${q(s.keyHolders)} .. keyId .. ':' .. t end`,
    `local function kWaiting(t) return BASE .. ${q(s.waiting)} .. t end`,
    `local K_PROMOTING = BASE .. ${q(s.promoting)}`,
    `local function kWork(op) return BASE .. ${q(s.work)} .. op end`,
    `local function kWorkLost(op) return BASE .. ${q(s.workLost)} .. op end`,
    `local function kVictims(op) return BASE .. ${q(s.victims)} .. op end`,
    `local K_UNINSTALLED = BASE .. ${q(s.uninstalled)}`,
    `local K_RELEASED_IDS = BASE .. ${q(s.releasedIds)}`,
    `local K_RETENTION = BASE .. ${q(s.retention)}`,
    `local K_CLIENT_INDEX = BASE .. ${q(s.clientIndex)}`,
  ].join('\n');
}
