/**
 * (g) Redis failover mid-storm (SPEC X3, F5, F1): kill -9 the Sentinel primary, or the Cluster
 * master that owns the default tenant's slot, while agents enroll and reconnect and unassign /
 * assign jobs stream in. Nothing is restarted by the scenario: the sentinels (or the cluster)
 * promote a replica, and the two gateways and the worker must find it by themselves. After
 * convergence every check holds, and the time from the kill until every agent is served again
 * is recorded (details.servedAgain).
 *
 * - `replicas:1` (the promise): every acknowledgement waited for a replica (WAIT), so a
 *   failover loses nothing acknowledged: no finding is excused.
 * - `everysec` (full form only, a report): replication is asynchronous, a reply is sent before
 *   any replica has the write, so whatever was acknowledged before the kill may be gone with
 *   the primary. Findings caused by such a loss are excused and listed — what was lost.
 *
 * The Cluster runs 3 masters with 2 replicas each: after the failover the shard still has a
 * replica to acknowledge WAIT (with one, replicas:1 refuses every acknowledgement of that
 * shard — NOT_DURABLE — until the dead node is back). The Sentinel setup has a primary and two
 * replicas for the same reason.
 */
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import type { Finding } from '../lib/checks/types.ts';
import type { ScenarioDef } from '../lib/scenario.ts';
import { servedAgain, type ServedAgain } from '../lib/served-again.ts';
import { runStormScenario } from '../lib/storm.ts';

type Engine = 'sentinel' | 'cluster';
type Durability = 'replicas:1' | 'everysec';

/** Bound of the promotion itself (sentinel down-after 1 s, cluster-node-timeout 2 s). */
const FAILOVER_TIMEOUT_MS = 30_000;
/**
 * Bound of a replica linking to the promoted primary. Usually at once (the sentinel leader
 * re-points the other replica during the failover; a cluster replica follows by itself). When
 * the leader's link to that replica was down at that moment, Sentinel re-points it only after
 * failover-timeout (5 s here) and its next 10-s INFO poll of the replica: seen once, over 16 s.
 */
const REPLICA_LINK_TIMEOUT_MS = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `primary` lists a replica as online (ROLE lists only those: the replicas that
 * acknowledge WAIT). Until then `replicas:1` rightly refuses every acknowledgement
 * (NOT_DURABLE): the Redis side of the fault is not over.
 */
async function waitLinkedReplica(primary: { call(...args: (string | number)[]): Promise<unknown> }, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const role = (await primary.call('ROLE')) as [string, number, unknown[]];
      if (role[0] === 'master' && role[2].length > 0) return;
    } catch {
      // between states: ask again
    }
    await sleep(100);
  }
  throw new Error(`no replica linked to the promoted primary within ${timeoutMs} ms`);
}

function summary(s: ServedAgain): string {
  const ms = (v: number | null) => (v === null ? 'never' : `${v} ms`);
  const errors = Object.entries(s.errorsAfterKill).map(([k, n]) => `${k} ×${n}`).join(', ') || 'none';
  const jobs = Object.entries(s.jobsAfterKill).map(([k, n]) => `${k} ×${n}`).join(', ') || 'none';
  const c = s.commandsAfterKill;
  const commands = `of ${c.answered}, ${c.onOpenConnection} came on the open connection (median ${ms(c.medianMs)}, max ${ms(c.maxMs)} after the answer), ${c.afterReconnect} after a reconnect, ${c.never} never`;
  return `served again: every agent ${ms(s.allAgentsMs)} after the kill (${s.agentsReconnected} agents welcomed after it), first Welcome ${ms(s.firstWelcomeMs)}, first job answered ${ms(s.firstJobMs)}; errors told to agents after the kill: ${errors}; jobs sent after the kill: ${jobs}; their commands: ${commands}`;
}

function lossReport(excused: Finding[]): string {
  if (excused.length === 0) return 'lost with the primary: nothing (the promoted replica had every acknowledged write)';
  const byCheck = new Map<string, number>();
  for (const f of excused) byCheck.set(f.check, (byCheck.get(f.check) ?? 0) + 1);
  return `lost with the primary: ${[...byCheck].map(([c, n]) => `${c} ×${n}`).join(', ')} (see the excused findings)`;
}

function failover(engine: Engine, durability: Durability): ScenarioDef {
  const everysec = durability === 'everysec';
  let killAt = 0;
  return {
    name: `g-${engine}-failover-${everysec ? 'everysec' : 'replicas'}`,
    title: `kill -9 the ${engine === 'sentinel' ? 'Sentinel primary' : "Cluster master of the default tenant's slot"} mid-storm (DURABILITY=${durability})`,
    quick: !everysec,
    timeoutMs: (s) => 150_000 + s.boundMs + s.settleMs,
    run: async (ctx) => {
      const outcome = await runStormScenario(ctx, {
        gateways: [{ name: 'g1' }, { name: 'g2' }],
        engine: { kind: engine },
        env: { DURABILITY: durability },
        async inject({ stack, fleet, log }) {
          await sleep(500); // into the thick of the storm
          const e = stack.engine;
          let fault: string;
          let promoted: string;
          let nodesKeyOnKilledMaster: boolean | undefined;
          let failoverMs = 0;
          if (e.kind === 'sentinel') {
            const old = await e.topology.primary();
            const pid = e.topology.server(old.port).pid;
            killAt = fleet.now();
            await e.topology.server(old.port).kill9();
            const next = await e.topology.waitFailover(old.port, FAILOVER_TIMEOUT_MS);
            failoverMs = fleet.now() - killAt;
            await waitLinkedReplica(e.topology.server(next.port), REPLICA_LINK_TIMEOUT_MS);
            fault = `kill -9 the Sentinel primary :${old.port} (pid ${pid})`;
            promoted = `:${next.port}`;
          } else if (e.kind === 'cluster') {
            const node = await e.topology.masterForKey(stack.keys.tenant(DEFAULT_TENANT));
            // The node registry's key lives in its own slot: when it is on the same master the
            // gateways' beats stop too, longer than NODE_TIMEOUT_MS (F1: no reaping of each other).
            nodesKeyOnKilledMaster = (await e.topology.masterForKey(stack.keys.nodes())).port === node.port;
            const pid = node.pid;
            killAt = fleet.now();
            await e.topology.kill9(node);
            const heir = await e.topology.waitFailover(node, FAILOVER_TIMEOUT_MS);
            failoverMs = fleet.now() - killAt;
            await waitLinkedReplica(heir.process, REPLICA_LINK_TIMEOUT_MS);
            fault = `kill -9 the Cluster master :${node.port} (pid ${pid}) owning ${stack.keys.tenant(DEFAULT_TENANT)}`;
            promoted = `:${heir.port}`;
          } else {
            throw new Error('the failover scenarios need a Sentinel setup or a Cluster');
          }
          const linkedMs = fleet.now() - killAt;
          log(`${fault}; replica ${promoted} promoted after ${failoverMs} ms, a replica linked to it after ${linkedMs} ms`);
          return {
            fault: `${fault}; replica ${promoted} promoted ${failoverMs} ms later, a replica linked to it ${linkedMs} ms after the kill; nothing restarted`,
            // everysec: replication is asynchronous and its lag unbounded; whatever was
            // acknowledged before the kill may be lost with the primary.
            lossWindow: everysec ? { from: 0, to: killAt, why: 'DURABILITY=everysec: asynchronous replication, acknowledged before the promoted replica had it' } : null,
            details: { killAtMs: killAt, failoverMs, replicaLinkedMs: linkedMs, durability, engine, ...(nodesKeyOnKilledMaster !== undefined ? { nodesKeyOnKilledMaster } : {}) },
          };
        },
        observe({ stack, fleet, jobs }) {
          const s = servedAgain(fleet, jobs.records, killAt);
          return { notes: [summary(s)], findings: [], details: { servedAgain: s, logged: stack.loggedProblems() } };
        },
      });
      if (everysec) outcome.notes.push(lossReport(outcome.excused));
      return outcome;
    },
  };
}

export const sentinelFailover = failover('sentinel', 'replicas:1');
export const clusterFailover = failover('cluster', 'replicas:1');
export const sentinelFailoverEverysec = failover('sentinel', 'everysec');
export const clusterFailoverEverysec = failover('cluster', 'everysec');
