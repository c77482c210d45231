/**
 * (b) kill -9 the worker mid-burst of mixed admin jobs — tenant grants, forced take-backs,
 * assigns, unassigns, uninstalls and the removal of a serial key — then start a new worker.
 * Every job must end with a result or a coded refusal, the ones the dead worker held finished
 * by BullMQ's retry or the product's resume (F2, F3); the grants must add up to what the
 * answered jobs said, and the invariants (incl. stranded capacity) must be clean.
 *
 * The removed key holds only infrastructure-server licenses, which are never granted, so the
 * grant arithmetic stays exact; the default tenant's servers charged to it lose their license.
 */
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { agentSpecs, demandOf } from '../lib/agent-specs.ts';
import type { TruthAgent } from '../lib/fleet.ts';
import { judge } from '../lib/judge.ts';
import { readRedisTruth } from '../lib/redis-truth.ts';
import type { ScenarioDef } from '../lib/scenario.ts';
import { ChaosStack } from '../lib/stack.ts';
import { countOutcomes, newFleet, newJobLedger } from '../lib/storm.ts';

const TENANTS = ['acme', 'globex'] as const;
const GRANTED_TYPES = ['workstation', 'linux'] as const;
/** Long enough for BullMQ to notice the dead worker's jobs (30 s lock) and run them again. */
const JOB_TIMEOUT_MS = 100_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const workerKill: ScenarioDef = {
  name: 'b-worker-kill',
  title: 'kill -9 the worker mid-burst of mixed admin jobs, then restart it',
  quick: true,
  timeoutMs: (s) => 120_000 + JOB_TIMEOUT_MS + s.boundMs + s.settleMs,
  async run(ctx) {
    const { sizes } = ctx;
    const perTenant = Math.max(4, Math.round(sizes.agents / 5));
    const nDefault = sizes.agents - 2 * perTenant;
    const d = demandOf(nDefault);
    const stack = await ChaosStack.start({
      scope: ctx.scope,
      dir: ctx.dir,
      appendfsync: 'everysec',
      ledger: {
        keys: [
          { keyId: 'CHAOS-A', kind: 'perpetual', licenses: { workstation: d.workstation + 4 * perTenant, linux: d.linux + 4 * perTenant, 'infrastructure-server': 1 } },
          { keyId: 'CHAOS-B', kind: 'subscription', licenses: { 'infrastructure-server': d['infrastructure-server'] + 2 } },
        ],
        tenants: TENANTS.map((id) => ({ id, grants: { workstation: Math.ceil(perTenant / 2), linux: Math.ceil(perTenant / 4) } })),
      },
      gateways: [{ name: 'g1' }, { name: 'g2' }],
      env: sizes.env,
    });
    const fleet = newFleet(ctx.scope);
    const jobs = newJobLedger(ctx, stack, fleet, JOB_TIMEOUT_MS);
    const urls = stack.gatewayUrls();
    const tokens = stack.ledger.tokens;
    fleet.add(agentSpecs({ n: nDefault, tenantId: DEFAULT_TENANT, token: tokens.get(DEFAULT_TENANT)!, urls, prefix: 'dft' }));
    for (const t of TENANTS) fleet.add(agentSpecs({ n: perTenant, tenantId: t, token: tokens.get(t)!, urls, prefix: t }));
    await fleet.connect(fleet.agents, 1_000);
    await fleet.waitConnected(30_000);
    const grantBase = (await readRedisTruth(stack.reader, stack.keys, [])).grants;
    ctx.log(`${fleet.agents.length} agents enrolled; burst of ${sizes.burstJobs} jobs`);

    // The burst: a fixed mix, a job every 2 ms.
    const pick = (i: number): TruthAgent => fleet.agents[(i * 13) % fleet.agents.length]!;
    const uninstalls = new Set(Array.from({ length: ctx.opts.quick ? 2 : 5 }, (_, k) => Math.floor(sizes.burstJobs / 2) + 7 * k));
    const removeAt = Math.floor(sizes.burstJobs / 3);
    const burst = (async () => {
      for (let i = 0; i < sizes.burstJobs; i++) {
        const tenantId = TENANTS[i % 2]!;
        const type = GRANTED_TYPES[Math.floor(i / 2) % 2]!;
        const a = pick(i);
        const client = { tenantId: a.spec.tenantId, clientId: a.spec.clientId };
        const slot = i % 20;
        if (i === removeAt) void jobs.run('serial.remove', { keyId: 'CHAOS-B' });
        else if (uninstalls.has(i)) void jobs.run('client.uninstall', client);
        else if (slot < 6) void jobs.run('tenant.grant', { tenantId, type, count: 1 });
        else if (slot < 10) void jobs.run('tenant.takeBack', { tenantId, type, count: 1, force: true });
        else if (slot < 15) void jobs.run('client.unassign', client);
        else void jobs.run('client.assign', { ...client, force: false });
        await sleep(2);
      }
    })();

    // Kill the worker once a quarter of the burst is answered (or after 3 s).
    const deadline = Date.now() + 3_000;
    while (jobs.records.filter((r) => r.outcome !== 'pending').length < sizes.burstJobs / 4 && Date.now() < deadline) await sleep(5);
    const pid = stack.worker!.pid;
    const answeredAtKill = jobs.records.filter((r) => r.outcome !== 'pending').length;
    await stack.killWorker();
    const inFlightAtKill = jobs.inFlight;
    await burst;
    await sleep(1_000);
    await stack.startWorker();
    ctx.log(`worker ${pid} killed with ${answeredAtKill} answered, ${inFlightAtKill} in flight; new worker ${stack.worker!.pid}; waiting for every job`);
    const t0 = Date.now();
    await jobs.settle();
    const settledMs = Date.now() - t0;
    ctx.log(`every job answered or timed out after ${settledMs} ms`);

    const verdict = await judge({ stack, fleet, jobs, lossWindow: null, grantBase, boundMs: sizes.boundMs, settleMs: sizes.settleMs });
    return {
      fault: `kill -9 worker (pid ${pid}) after ${answeredAtKill}/${sizes.burstJobs} jobs answered (${inFlightAtKill} in flight), new worker 1 s later`,
      agents: fleet.agents.length,
      jobs: jobs.records.length,
      converged: verdict.converged,
      convergeMs: verdict.convergeMs,
      violations: verdict.violations,
      excused: verdict.excused,
      notes: [`every job answered (or timed out) ${settledMs} ms after the new worker started (BullMQ lock: 30 s)`],
      details: { jobOutcomes: countOutcomes(jobs.records.map((r) => r.outcome)), answeredAtKill, inFlightAtKill, polls: verdict.polls, relapses: verdict.relapses },
    };
  },
};
