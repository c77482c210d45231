/**
 * X1 X2 on a real Redis Cluster (3 masters + 3 replicas): every Lua script runs through
 * licensegate's own code paths for two tenants whose slots live on different masters; a gateway
 * serves 50 agents of both tenants, an admin job through BullMQ unassigns one and its
 * StopMonitoring arrives by the tenant's sharded doorbell; the gateway's shutdown marks both
 * tenants' Clients offline in one call (disconnectMany). No cross-slot error anywhere: none
 * thrown, none logged, none counted by any redis-server (INFO errorstats). Which scripts ran is
 * read from the masters' SLOWLOG (threshold 0): the proof comes from Redis, not from us.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, type Worker } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { pino } from 'pino';
import { Agent } from '../../agent-sim/agent.ts';
import { AccountStore } from '../../src/accounts/account-store.ts';
import { repairLostCommands } from '../../src/delivery/seq-repair.ts';
import { GatewayServer } from '../../src/gateway/gateway-server.ts';
import { SessionStore } from '../../src/gateway/session-store.ts';
import { ADMIN_QUEUE } from '../../src/jobs/contract.ts';
import { startAdminWorker } from '../../src/jobs/admin-worker.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { assignClient, setTenantPolicy, uninstallClient } from '../../src/licensing/client-admin.ts';
import type { LedgerContext } from '../../src/licensing/ledger-context.ts';
import { assignPamSeat, createPamUser } from '../../src/licensing/pam-seats.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { resumePendingPromotions } from '../../src/licensing/promotion.ts';
import { activateSerialKey, removeSerialKey } from '../../src/licensing/serial-key-ledger.ts';
import { createTenant, deliverGrant, ensureTenant, grantLicenses, reserveGrant, takeBackLicenses } from '../../src/licensing/tenants.ts';
import { rotateEnrollmentToken } from '../../src/licensing/enrollment-tokens.ts';
import { deleteTenant, renameTenant } from '../../src/licensing/tenant-lifecycle.ts';
import { readTenantDetail } from '../../src/licensing/tenant-detail.ts';
import { setTenantLimits } from '../../src/licensing/tenant-limits.ts';
import { applyRetention, DEFAULT_RETENTION } from '../../src/licensing/retention.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import { loadScripts, SCRIPT_NAMES } from '../../src/store/scripts.ts';
import { awaitDurable, replicaGateOf } from '../../src/store/durability.ts';
import { keySlot } from '../../src/store/slot-routing.ts';
import { TurnBatcher } from '../../src/store/turn-batcher.ts';
import { OS, clientId } from '../helpers/agents.ts';
import { eventually, TEST_TOKEN } from '../helpers/gateway.ts';
import { mintKey, vendor } from '../helpers/ledger.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scope } from '../../bench/lib/scope.ts';
import { RedisClusterTopology } from '../../chaos/lib/redis-cluster.ts';
import { createRedis } from '../../src/store/redis-connection.ts';

const scope = new Scope();
const dir = mkdtempSync(join(tmpdir(), 'lg-scripts-cluster-'));
let cluster: RedisClusterTopology;
let redis: Cluster;
let ctx: LedgerContext;
let gateway: GatewayServer;
let gatewayUrl: string;
let other: string;
let otherToken: string;
let keyId: string;
const keys = new Keys('lgc', '{lgc}');
const errorLogs: string[] = [];
const agents: Agent[] = [];
const logger = pino({ level: 'warn' }, { write: (line: string) => void (JSON.parse(line).level >= 50 && errorLogs.push(line)) });

function connectCluster(maxRetriesPerRequest?: null): Cluster {
  const c = createRedis({ kind: 'cluster', nodes: cluster.seedNodes() }, { connectionName: 'licensegate:test', ...(maxRetriesPerRequest === null ? { maxRetriesPerRequest } : {}) }) as Cluster;
  c.on('error', () => {});
  return c;
}

async function eachNode<T>(fn: (r: Redis) => Promise<T>): Promise<T[]> {
  return Promise.all(
    cluster.seedNodes().map(async (n) => {
      const r = new Redis({ host: n.host, port: n.port });
      try {
        return await fn(r);
      } finally {
        r.disconnect();
      }
    }),
  );
}

/** The master that serves a key's slot, as the cluster client sees it. */
const masterOf = (key: string) => redis.slots[keySlot(key)]![0];

beforeAll(async () => {
  cluster = await RedisClusterTopology.start(scope, { dir });
  // Every command into SLOWLOG: which scripts ran is read back from Redis at the end.
  await eachNode((r) => r.config('SET', 'slowlog-log-slower-than', '0', 'slowlog-max-len', '500000'));
  redis = connectCluster();
  await redis.ping();
  // Our slot arithmetic (src/store/slot-routing.ts) is Redis' own.
  for (const key of [keys.tenant(DEFAULT_TENANT), keys.clientTenant(), keys.nodes(), keys.doorbellChannel('acme', 'n1')]) {
    expect(keySlot(key)).toBe(Number(await redis.call('CLUSTER', 'KEYSLOT', key)));
  }
  // A second tenant whose slot lives on another master than the default tenant's.
  for (let i = 0; ; i++) {
    other = `acme-${i}`;
    if (masterOf(keys.tenant(other)) !== masterOf(keys.tenant(DEFAULT_TENANT))) break;
  }
  ctx = { redis, keys, vendorKeys: [vendor.publicKey] };
}, 120_000);

afterAll(async () => {
  for (const a of agents) a.terminate();
  await gateway?.stop();
  redis?.disconnect();
  await scope.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('licensegate on a real Redis Cluster', () => {
  it('X2: the ledger, tenants, grants and a gateway with 50 agents of two tenants on different masters', async () => {
    await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
    keyId = (await activateSerialKey(ctx, TECHNICIAN, mintKey({ linux: 60, 'pam-seat': 2 }))).keyId;
    otherToken = (await createTenant(ctx, TECHNICIAN, 'Acme', other)).enrollmentToken;
    await grantLicenses(ctx, TECHNICIAN, other, 'linux', 30);
    await grantLicenses(ctx, TECHNICIAN, other, 'pam-seat', 1);

    gateway = new GatewayServer({ redis, keys, logger, port: 0, heartbeatIntervalMs: 400, lastSeenFlushMs: 100, nodeHeartbeatMs: 200, reconcileIntervalMs: 500 });
    gatewayUrl = `ws://127.0.0.1:${(await gateway.start()).port}`;
    for (let i = 0; i < 50; i++) {
      const mine = i % 2 === 0;
      agents.push(new Agent({ url: gatewayUrl, clientId: clientId(mine ? 'd' : 'o'), tenantId: mine ? DEFAULT_TENANT : other, enrollmentToken: mine ? TEST_TOKEN : otherToken, os: OS.linux }));
    }
    await Promise.all(agents.map((a) => a.connect()));
    await Promise.all(agents.map((a) => a.waitFor(() => a.monitoring, 10_000)));
    expect(await redis.hlen(keys.online(DEFAULT_TENANT))).toBe(25);
    expect(await redis.hlen(keys.online(other))).toBe(25);
  });

  it('X2 C2: an enrollment is two commands in two round trips: the {g} claim (HSETNX; its owner is read only when it was claimed already), then the tenant script', async () => {
    const agent = new Agent({ url: gatewayUrl, clientId: clientId('e'), tenantId: other, enrollmentToken: otherToken, os: OS.linux, heartbeat: false });
    await agent.connect();
    const seen = await eachNode(async (r) => {
      const log = (await r.call('SLOWLOG', 'GET', '-1')) as [number, number, number, string[], string, string][];
      // Sent by the gateway (replicas log the replicated effects too, from their master link).
      const sent = log.filter((e) => String(e[5]) === 'licensegate:test' && e[3].map(String).includes(agent.clientId));
      return sent.map((e) => ({ port: r.options.port, cmd: String(e[3][0]).toLowerCase().replace('evalsha', 'eval') }));
    });
    const cmds = seen.flat();
    expect(cmds.map((c) => c.cmd).sort()).toEqual(['eval', 'hsetnx']);
    // The claim went to the master of `{g}`, the script to the tenant's master.
    const portOf = (cmd: string) => `127.0.0.1:${cmds.find((c) => c.cmd === cmd)!.port}`;
    expect(portOf('hsetnx')).toBe(masterOf(keys.clientTenant()));
    expect(portOf('eval')).toBe(masterOf(keys.tenant(other)));
    // It sends no heartbeats (so that SLOWLOG shows only its Hello): the gateway would close it
    // with HEARTBEAT_TIMEOUT and later steps would wait on a connection that is gone.
    await agent.close();
  });

  it('X2 C7 A1: an unassign job through BullMQ on the cluster; StopMonitoring arrives by the sharded doorbell', async () => {
    const conn = connectCluster(null);
    const worker: Worker = startAdminWorker(conn, keys.queuePrefix, ctx, logger);
    const queue = new Queue(ADMIN_QUEUE, { connection: conn, prefix: keys.queuePrefix });
    try {
      await worker.waitUntilReady();
      const target = agents[1]!; // a Client of the other tenant
      const job = await queue.add('client.unassign', { actor: TECHNICIAN, tenantId: other, clientId: target.clientId });
      // Polled rather than awaited through QueueEvents: a result stream read is not what is tested here.
      await eventually(async () => (await queue.getJob(job.id!))?.finishedOn !== undefined, 'the unassign job finished', 20_000);
      expect((await queue.getJob(job.id!))!.returnvalue).toMatchObject({ clientId: target.clientId, license: null });
      await target.waitFor(() => !target.monitoring, 10_000);
      expect(target.commands.at(-1)).toMatchObject({ kind: 'stop' });
      // And back, by a direct call this time: StartMonitoring by the same doorbell.
      await assignClient(ctx, TECHNICIAN, other, target.clientId);
      await target.waitFor(() => target.monitoring, 10_000);
    } finally {
      await worker.close();
      await queue.close();
      conn.disconnect();
    }
  });

  it('X2: policies, PAM seats, uninstall, log repair, re-registration, promotion, take-back, node reaping and key removal', async () => {
    await setTenantPolicy(ctx, TECHNICIAN, other, { reclaimAfterDays: 30, freeNonPersistentOnDisconnect: true });
    // Z2: a token rotation (rotateToken) in the other tenant's slot; the old token keeps enrolling during its grace.
    const rotated = await rotateEnrollmentToken(ctx, TECHNICIAN, other, createHash('sha256').update('lgt_rotated-on-cluster-0001').digest('hex'), 600_000);
    expect(rotated.previousValidUntil - rotated.rotatedAt).toBe(600_000);
    expect(await redis.hget(keys.tenant(other), 'prevEnrollTokenHash')).toBe(createHash('sha256').update(otherToken).digest('hex'));
    // Z3: enrollment limits (setLimits) in the other tenant's slot.
    expect(await setTenantLimits(ctx, TECHNICIAN, other, { maxClients: 1_000, enrollRate: 50 })).toMatchObject({ maxClients: 1_000, enrollRate: 50 });
    // H2: an admin account (createAccount) in the {accounts} slot; a second create of the name in another case is refused.
    const accountStore = new AccountStore(redis, keys);
    expect(await accountStore.create({ name: 'Operator', tenantId: other, permissions: [] })).toMatchObject({ id: 'operator', tenantId: other, passwordSet: false });
    await expect(accountStore.create({ name: 'OPERATOR', tenantId: DEFAULT_TENANT, permissions: [] })).rejects.toMatchObject({ code: 'ACCOUNT_EXISTS' });
    // H2 A2: changing and deleting it (changeAccount, with the last-technician check) in the same slot.
    expect(await accountStore.update('operator', { disabled: true })).toMatchObject({ id: 'operator', disabled: true });
    await accountStore.delete('operator');
    expect(await accountStore.get('operator')).toBeNull();
    // issue 12: a spare tenant renamed (renameTenant) and deleted (deleteTenant) in its own slot,
    // with the name index and claims in {g} and the tenant set elsewhere: no cross-slot call.
    const spare = (await createTenant(ctx, TECHNICIAN, 'Spare on cluster')).id;
    expect(await renameTenant(ctx, TECHNICIAN, spare, 'Spare renamed')).toMatchObject({ id: spare, name: 'Spare renamed' });
    expect(await readTenantDetail(ctx, spare)).toMatchObject({ id: spare, name: 'Spare renamed', clients: 0, pamUsers: 0 });
    expect(await deleteTenant(ctx, TECHNICIAN, spare)).toEqual({ tenantId: spare, deleted: true });
    expect(await redis.exists(keys.tenant(spare))).toBe(0);
    // F2: a grant whose tenant was deleted before its second step gives its license back (grantReturn, default slot).
    const late = await reserveGrant(ctx, TECHNICIAN, spare, 'linux', 1, 'late-grant-on-cluster');
    await expect(deliverGrant(ctx, late)).rejects.toMatchObject({ code: 'UNKNOWN_TENANT' });
    const user = await createPamUser(ctx, TECHNICIAN, other, 'alice');
    await assignPamSeat(ctx, TECHNICIAN, other, user.id);

    const leaving = agents[0]!; // default tenant
    await uninstallClient(ctx, TECHNICIAN, DEFAULT_TENANT, leaving.clientId);
    await leaving.waitFor(() => leaving.uninstalled, 10_000);
    // Z5: its record is purged (purgeUninstalled, tenant slot) and its id released from the
    // global client map (releaseClientIds, {g} slot) once the retention has passed.
    const instantly = { ...DEFAULT_RETENTION, uninstalledRetentionMs: 1 };
    await eventually(async () => (await applyRetention(ctx, instantly)).released >= 1, 'uninstalled Client purged and its id released', 10_000);
    expect(await redis.exists(keys.client(DEFAULT_TENANT, leaving.clientId))).toBe(0);

    const probe = agents[3]!;
    expect(await repairLostCommands(redis, keys, other, probe.clientId, 5_000_000)).toBeGreaterThan(5_000_000);
    await probe.waitFor(() => probe.commands.some((c) => c.seq > 5_000_000), 10_000);
    const token = (await redis.hget(keys.online(other), probe.clientId))!;
    const epoch = Number(await redis.hget(keys.client(other, probe.clientId), 'holderEpoch'));
    expect(await new SessionStore(redis, keys).reregister(other, [{ clientId: probe.clientId, connToken: token, epoch }])).toEqual(['held']);

    await redis.hset(keys.promoting(other), 'linux', 'online:0');
    expect(await resumePendingPromotions(ctx)).toMatchObject({ tenants: 1 });

    expect((await takeBackLicenses(ctx, TECHNICIAN, other, 'linux', 5, true)).takenBack).toBe(5);

    // A node that stopped beating long ago: this gateway's liveness round reaps and forgets it.
    await redis.zadd(keys.nodes(), 1, 'ghost-node');
    await eventually(async () => (await redis.zscore(keys.nodes(), 'ghost-node')) === null, 'ghost node forgotten', 10_000);

    // Removing the key stops every agent of both tenants, each by its tenant's doorbell.
    await removeSerialKey(ctx, TECHNICIAN, keyId);
    const live = agents.filter((a) => a !== leaving);
    await Promise.all(live.map((a) => a.waitFor(() => !a.monitoring, 10_000)));
  });

  it('X2 F1: the shutdown marks both tenants offline at once (disconnectMany across slots), and the ledger holds', async () => {
    await gateway.stop();
    expect(await redis.hlen(keys.online(DEFAULT_TENANT))).toBe(0);
    expect(await redis.hlen(keys.online(other))).toBe(0);
    expect(await checkInvariants(redis, keys)).toEqual({ ok: true, violations: [] });
  });

  it('X2 F5: DURABILITY=replicas:1 on a cluster: a turn of two tenants is two pipelines, each ending in its own WAIT on its master', async () => {
    const durable = createRedis({ kind: 'cluster', nodes: cluster.seedNodes() }, { connectionName: 'licensegate:test', durability: { kind: 'replicas', replicas: 1, timeoutMs: 5000 } });
    try {
      const gate = replicaGateOf(durable)!;
      const batcher = new TurnBatcher(durable);
      const before = gate.waits;
      const key = (t: string, i: number) => `${keys.tenantBase(t)}durable-test:${i}`;
      const writes = [DEFAULT_TENANT, other].flatMap((t) => Array.from({ length: 10 }, (_, i) => batcher.run(key(t, i), (p) => p.set(key(t, i), 'v'))));
      expect(new Set(await Promise.all(writes))).toEqual(new Set(['OK']));
      expect(gate.waits - before).toBe(2);
      // An admin job's barrier: one WAIT on each of the three masters.
      await awaitDurable(durable);
      expect(gate.waits - before).toBe(5);
    } finally {
      durable.disconnect();
    }
  });

  it('X2: every script ran on a master, and no node counted a cross-slot or non-local error', async () => {
    const shaToName = new Map(loadScripts().map((s) => [createHash('sha1').update(s.lua).digest('hex'), s.name]));
    // ioredis sends a script's first call on a connection as EVAL: SLOWLOG keeps 128 bytes of
    // its body and "... (N more bytes)", so the body's length names it (asserted unique).
    const lengthToName = new Map(loadScripts().map((s) => [Buffer.byteLength(s.lua), s.name]));
    expect(lengthToName.size).toBe(SCRIPT_NAMES.length);
    const ran = new Set<string>();
    const logs = await eachNode(async (r) => (await r.call('SLOWLOG', 'GET', '-1')) as [number, number, number, string[]][]);
    for (const entry of logs.flat()) {
      const [cmd, first] = entry[3]!.map(String);
      if (/^evalsha$/i.test(cmd!) && shaToName.has(first!)) ran.add(shaToName.get(first!)!);
      const more = /^eval$/i.test(cmd!) && /\.\.\. \((\d+) more bytes\)$/.exec(first!);
      if (more && lengthToName.has(128 + Number(more[1]))) ran.add(lengthToName.get(128 + Number(more[1]))!);
    }
    expect([...ran].sort()).toEqual([...SCRIPT_NAMES].sort());
    const errorstats = (await eachNode((r) => r.info('errorstats'))).join('\n');
    expect(errorstats).not.toMatch(/CROSSSLOT|MOVED|ASK/);
    expect(errorLogs.filter((l) => /slot|non local|CROSSSLOT/i.test(l))).toEqual([]);
    expect(errorLogs).toEqual([]);
  });
});
