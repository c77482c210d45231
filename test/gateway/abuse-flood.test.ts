/**
 * SPEC Z4 (issue 11's acceptance test), with real processes: one host (127.0.0.2, an attacker
 * process) opens 19,000 sockets to a real `licensegate serve` and sends nothing, reopening each
 * one the gateway closes; meanwhile 500 real agents from other source addresses (127.0.0.3-12)
 * enroll, are licensed and stay served (heartbeats answered, no agent closed) during the attack.
 * The gateway runs with its default limits, as shipped; its open files stay far below the
 * 20,000 the process may have. Everything stops by itself (the attacker at its deadline).
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent-sim/agent.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { clientId, OS } from '../helpers/agents.ts';
import { eventually, TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess } from '../helpers/gateway-process.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { portOf } from '../helpers/idle-sockets.ts';
import { connectRedis, redisEnv, uniquePrefix } from '../helpers/redis.ts';

const ATTACK_SOCKETS = 19_000;
const AGENTS = 500;
const ATTACK_MS = 45_000;
const HEARTBEAT_MS = 2_000;
const DEFAULT_PER_SOURCE_CAP = 2_000;
/** The agent port's listen backlog (gateway-server.ts): connected for the peer, not yet accepted. */
const ACCEPT_BACKLOG = 4_096;

let redis: RedisClient;
beforeAll(async () => {
  redis = await connectRedis();
});
afterAll(() => redis.disconnect());

interface FloodStats {
  event: string;
  attempted: number;
  connected: number;
  failed: number;
  closedByServer: number;
  openNow: number;
  maxOpen: number;
}

function openFiles(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

describe('Z4: one host flooding idle sockets cannot keep real agents out', () => {
  it('Z4 C13: 19,000 silent sockets from 127.0.0.2; 500 agents from 127.0.0.3+ enroll, are licensed and stay served', async () => {
    const prefix = uniquePrefix('flood');
    const keys = new Keys(prefix, `{${prefix}}`);
    await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
    await activatePool(ledgerContext(redis, keys), { workstation: AGENTS });
    const gw = await startGatewayProcess({
      ...redisEnv(),
      KEY_PREFIX: prefix,
      QUEUE_PREFIX: `{${prefix}}`,
      ENROLLMENT_TOKEN: TEST_TOKEN,
      GATEWAY_HOST: '127.0.0.1',
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
    });
    const pid = gw.child.pid!;
    const attacker = spawn(process.execPath, [join(import.meta.dirname, '../helpers/idle-flood.mjs'), String(portOf(gw.url)), '127.0.0.2', String(ATTACK_SOCKETS), String(ATTACK_MS), '1000', '1000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const attackerExited = new Promise<number | null>((resolve) => attacker.once('exit', (code) => resolve(code)));
    let last: FloodStats | undefined;
    let buffered = '';
    attacker.stdout!.on('data', (b: Buffer) => {
      buffered += b.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const stats = JSON.parse(buffered.slice(0, nl)) as FloodStats;
        buffered = buffered.slice(nl + 1);
        last = stats;
      }
    });
    let maxFiles = 0;
    const sampler = setInterval(() => {
      try {
        maxFiles = Math.max(maxFiles, openFiles(pid));
      } catch {
        // the process is gone; the assertions below will say so
      }
    }, 100);
    // Agents reconnect (as real ones do) if a connect of theirs is lost in the flood; once all
    // are licensed, no agent may lose its connection while the attack goes on.
    const agents = Array.from({ length: AGENTS }, (_, i) => new Agent({ url: gw.url, clientId: clientId('ok'), enrollmentToken: TEST_TOKEN, os: OS.windows, localAddress: `127.0.0.${3 + (i % 10)}`, reconnect: true, backoff: { baseMs: 200, capMs: 2_000 } }));
    let served = false;
    const closesWhileServed: string[] = [];
    const acks = new Map<Agent, number>();
    for (const a of agents) {
      a.on('close', () => served && closesWhileServed.push(a.clientId));
      a.on('heartbeat-ack', () => acks.set(a, (acks.get(a) ?? 0) + 1));
    }
    try {
      // The attack is under way before the agents start.
      await eventually(() => (last?.connected ?? 0) >= 4_000, 'the attacker has 4,000 sockets in', 30_000, 50).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; attacker: ${JSON.stringify(last)}`);
      });
      const enrollStarted = Date.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          while (next < agents.length) {
            const agent = agents[next++]!;
            await agent.connect().catch(() => agent.waitFor(() => agent.connected, 40_000));
          }
        }),
      );
      const enrollMs = Date.now() - enrollStarted;
      expect(agents.filter((a) => a.license?.licensed)).toHaveLength(AGENTS);
      served = true;
      // Served during the attack: every agent gets two more heartbeat acks, none is closed.
      const acksBefore = new Map(agents.map((a) => [a, acks.get(a) ?? 0]));
      await eventually(() => agents.every((a) => (acks.get(a) ?? 0) >= acksBefore.get(a)! + 2), 'every agent got two more heartbeat acks during the attack', 8 * HEARTBEAT_MS, 100);
      // The attacker has opened its 19,000 sockets by now (it reopens what the gateway closes).
      await eventually(() => (last?.connected ?? 0) >= ATTACK_SOCKETS, 'the attacker opened 19,000 sockets', ATTACK_MS, 100);
      expect(attacker.exitCode).toBeNull(); // the attack was still going on
      expect(closesWhileServed).toEqual([]);
      expect(agents.every((a) => a.connected)).toBe(true);
      // The gateway held at most its per-source share of the attack: what the attacker still has
      // open is that share plus connections the kernel's accept queue (backlog 4096) holds.
      expect(last!.connected - last!.closedByServer).toBeLessThanOrEqual(DEFAULT_PER_SOURCE_CAP + ACCEPT_BACKLOG);
      expect(maxFiles).toBeLessThan(DEFAULT_PER_SOURCE_CAP + AGENTS + 500);
      console.info(`[abuse-flood] ${AGENTS} agents licensed in ${enrollMs} ms during the attack; gateway max open files ${maxFiles}; attacker ${JSON.stringify(last)}`);
    } finally {
      clearInterval(sampler);
      attacker.kill('SIGTERM');
      await attackerExited;
      await Promise.all(agents.map((a) => a.close().catch(() => {})));
      await gw.stop();
    }
  }, 90_000);
});
