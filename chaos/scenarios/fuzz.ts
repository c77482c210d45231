/**
 * (h-fuzz) SPEC R2, Z4: a live fuzz run against a real `licensegate serve`. Good agents enroll
 * first; then many fuzzing connections (each from its own loopback source address, never the
 * good agents' 127.0.0.1) send random and mutated frames — 10,000 in the quick form, 100,000 in
 * the full one — while an admin unassigns and re-assigns some good agents. Judged: the gateway
 * never dies and answers /healthz throughout; every reply to a fuzz frame decodes and every Error
 * carries a catalogue code and its close code; no lone bad frame goes unanswered; the gateway's
 * RSS stays within a stated bound; the good agents keep their one connection, their license, and
 * receive their commands; and the usual convergence checks (Redis invariants, beliefs, presence,
 * command seqs) come out clean once the fuzzers are gone.
 */
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { agentSpecs, demandOf } from '../lib/agent-specs.ts';
import { finding, type Finding } from '../lib/checks/types.ts';
import { newTally, runFuzzConnection, type FuzzTally } from '../lib/fuzz-connection.ts';
import { Rng } from '../lib/fuzz-frames.ts';
import { judge } from '../lib/judge.ts';
import type { ScenarioContext, ScenarioDef, ScenarioOutcome } from '../lib/scenario.ts';
import { ChaosStack } from '../lib/stack.ts';
import { countOutcomes, newFleet, newJobLedger } from '../lib/storm.ts';
import { FUZZ_TENANT, FuzzClients, rssOf, watchHealth } from '../lib/fuzz-watch.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FuzzSizes {
  frames: number;
  connections: number;
  goodAgents: number;
  /** Source addresses 127.0.0.2 … (connections spread over them). */
  sources: number;
  /** The fuzz stops by then (below the scenario's hard timeout). */
  maxFuzzMs: number;
}

export function fuzzSizes(ctx: Pick<ScenarioContext, 'opts'>): FuzzSizes {
  const quick = ctx.opts.quick;
  return { frames: quick ? 10_000 : 100_000, connections: 200, goodAgents: ctx.opts.agents ?? (quick ? 40 : 100), sources: 40, maxFuzzMs: quick ? 120_000 : 600_000 };
}

const MAX_FRAME_BYTES = 64 * 1024;
/**
 * RSS bound (MiB) over the reading before the fuzz: 64 MiB of heap and allocator slack, plus two
 * maximal frames per concurrent connection (ws may hold a message of up to 2 x MAX_FRAME_BYTES
 * while it assembles it, the decoder one more copy). Growth with the NUMBER of frames (a leak) would
 * cross it: 100,000 frames leaking 1 KiB each is 98 MiB.
 */
const rssBoundMiB = (connections: number) => 64 + Math.ceil((connections * 2 * 2 * MAX_FRAME_BYTES) / 2 ** 20);

async function runFuzz(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const { sizes } = ctx;
  const fz = fuzzSizes(ctx);
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  const demand = demandOf(fz.goodAgents);
  const stack = await ChaosStack.start({
    scope: ctx.scope,
    dir: ctx.dir,
    appendfsync: 'everysec',
    // Every good agent gets a license; the fuzz tenant has a few Linux licenses of its own.
    ledger: {
      keys: [{ keyId: 'FUZZ-A', kind: 'perpetual', licenses: { workstation: demand.workstation, linux: demand.linux + 5, 'infrastructure-server': demand['infrastructure-server'] } }],
      tenants: [{ id: FUZZ_TENANT, grants: { linux: 5 } }],
    },
    gateways: [{ name: 'g1' }],
    env: { ...sizes.env, MAX_FRAME_BYTES: String(MAX_FRAME_BYTES) },
  });
  const g = stack.gateways.get('g1')!;
  ctx.log(`stack up: gateway ${g.pid}, worker ${stack.worker?.pid}; seed ${seed}`);

  const fleet = newFleet(ctx.scope);
  const jobs = newJobLedger(ctx, stack, fleet, sizes.boundMs);
  const good = fleet.add(agentSpecs({ n: fz.goodAgents, tenantId: DEFAULT_TENANT, token: stack.ledger.tokens.get(DEFAULT_TENANT)!, urls: stack.gatewayUrls(), prefix: 'good' }));
  await fleet.connect(good, 1_000);
  await fleet.waitConnected(30_000);
  const unlicensedAtStart = good.filter((a) => !a.belief.monitoring).length;
  ctx.log(`${good.length} good agents enrolled (${unlicensedAtStart} unlicensed)`);
  await sleep(1_000);

  const rssStart = rssOf(g.pid);
  const health = watchHealth(`${g.healthUrl}/healthz`, 500);
  ctx.scope.defer('health watch', () => health.stop());
  const tally: FuzzTally = newTally();
  const clients = new FuzzClients(50);
  const rng = new Rng(seed);
  let stopped = false;
  let fuzzDone = false;
  ctx.scope.defer('fuzzers', () => void (stopped = true));
  // The fuzz ends by this deadline even if the target is not reached (refused connections, a dead gateway).
  const fuzzDeadline = setTimeout(() => void (stopped = true), fz.maxFuzzMs);
  ctx.scope.defer('fuzz deadline', () => clearTimeout(fuzzDeadline));

  // Mid-fuzz: an admin unassigns some good agents, then assigns them again (C7, C6).
  const targets = good.filter((_, i) => i % 10 === 3);
  const admin = (async () => {
    while (tally.framesSent < fz.frames * 0.3 && !stopped && !fuzzDone) await sleep(50);
    await Promise.all(targets.map((a) => jobs.run('client.unassign', { tenantId: a.spec.tenantId, clientId: a.spec.clientId })));
    while (tally.framesSent < fz.frames * 0.6 && !stopped && !fuzzDone) await sleep(50);
    await Promise.all(targets.map((a) => jobs.run('client.assign', { tenantId: a.spec.tenantId, clientId: a.spec.clientId })));
  })();

  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: fz.connections }, (_, w) =>
      runFuzzConnection({
        url: g.url,
        localAddress: `127.0.0.${2 + (w % fz.sources)}`,
        target: fz.frames,
        tally,
        context: { rng, identity: { tenantId: FUZZ_TENANT, token: stack.ledger.tokens.get(FUZZ_TENANT)! }, pickClient: () => clients.pick(rng), maxPayloadBytes: MAX_FRAME_BYTES },
        onCredential: (id, cred) => clients.enrolled(id, cred),
        onRetired: (id) => clients.retire(id),
        answerMs: 3_000,
        unfinishedMs: Number(sizes.env.HELLO_TIMEOUT_MS ?? 10_000) + 3_000,
        stopped: () => stopped,
      }),
    ),
  );
  const fuzzMs = Date.now() - t0;
  clearTimeout(fuzzDeadline);
  const timedOut = stopped;
  fuzzDone = true;
  await admin;
  await jobs.settle();
  const rssPeak = rssOf(g.pid);
  const healthStats = health.stop();
  ctx.log(`fuzz done: ${tally.framesSent} frames in ${tally.sessions} sessions, ${fuzzMs} ms; ${tally.problemCount} problems; health ${healthStats.ok}/${healthStats.polls}`);

  const verdict = await judge({ stack, fleet, jobs, lossWindow: null, boundMs: sizes.boundMs, settleMs: sizes.settleMs, faultEnd: Date.now() });
  const rssEnd = rssOf(g.pid);

  const findings: Finding[] = [];
  const alive = g.child.exitCode === null && g.child.signalCode === null;
  if (!alive) findings.push(finding('fault', 'R2', 'gateway', `gateway exited (code ${g.child.exitCode}, signal ${g.child.signalCode})`));
  if (healthStats.failed > 0) findings.push(finding('fault', 'R2', 'gateway', `/healthz failed ${healthStats.failed} of ${healthStats.polls} polls (${healthStats.lastFailure})`));
  if (healthStats.polls === 0) findings.push(finding('fault', 'R2', 'gateway', '/healthz was never polled'));
  for (const p of tally.problems) findings.push(finding('fault', 'R2', 'fuzz', p));
  if (tally.problemCount > tally.problems.length) findings.push(finding('fault', 'R2', 'fuzz', `${tally.problemCount - tally.problems.length} more problems`));
  if (tally.framesSent < fz.frames) {
    findings.push(finding('fault', 'R2', 'fuzz', `only ${tally.framesSent} of ${fz.frames} frames were sent${timedOut ? ` by the ${fz.maxFuzzMs / 1000} s deadline` : ''} (refused before the upgrade: ${JSON.stringify(tally.connectFailures)})`));
  }
  const bound = rssBoundMiB(fz.connections);
  const growth = (x: { rssKiB: number }) => (x.rssKiB - rssStart.rssKiB) / 1024;
  if (growth(rssPeak) > bound || growth({ rssKiB: rssPeak.hwmKiB }) > bound) {
    findings.push(finding('fault', 'Z4', 'gateway', `RSS grew by ${growth(rssPeak).toFixed(1)} MiB (peak ${(rssPeak.hwmKiB / 1024).toFixed(1)} MiB), bound ${bound} MiB`));
  }
  // Good agents: one connection each, never closed or refused, licensed at the end, and the
  // targets saw StopMonitoring and then StartMonitoring.
  for (const a of good) {
    const welcomes = a.observations.filter((o) => o.kind === 'welcome').length;
    const closes = a.observations.filter((o) => o.kind === 'close' || o.kind === 'error');
    if (welcomes !== 1 || closes.length > 0) findings.push(finding('fault', 'Z4', a.key, `good agent disturbed: ${welcomes} welcomes, ${closes.length} closes/errors (${a.history()})`));
    if (!a.belief.monitoring) findings.push(finding('fault', 'R2', a.key, `good agent not licensed at the end (${a.history()})`));
  }
  for (const a of targets) {
    const cmds = a.observations.filter((o) => o.kind === 'command' && !o.duplicate).map((o) => (o.kind === 'command' ? o.cmd : ''));
    if (!(cmds.includes('stop') && cmds.lastIndexOf('start') > cmds.indexOf('stop'))) findings.push(finding('fault', 'C7', a.key, `admin commands not delivered (${cmds.join(',') || 'none'})`));
  }

  const secs = fuzzMs / 1000;
  const details = {
    seed,
    frames: tally.framesSent,
    sessions: tally.sessions,
    fuzzMs,
    framesPerSecond: Math.round(tally.framesSent / secs),
    sessionsPerSecond: Math.round(tally.sessions / secs),
    connections: fz.connections,
    sourceAddresses: fz.sources,
    sessionsByKind: tally.sessionsByKind,
    replies: tally.replies,
    closeCodes: tally.closeCodes,
    connectFailures: tally.connectFailures,
    problems: tally.problemCount,
    fuzzClientsEnrolled: clients.created,
    rssMiB: { start: mib(rssStart.rssKiB), afterFuzz: mib(rssPeak.rssKiB), peakHwm: mib(rssPeak.hwmKiB), end: mib(rssEnd.rssKiB), bound },
    health: healthStats,
    goodAgents: {
      count: good.length,
      licensedAtEnd: good.filter((a) => a.belief.monitoring).length,
      disturbed: good.filter((a) => a.observations.some((o) => o.kind === 'close' || o.kind === 'error')).length,
      adminTargets: targets.length,
    },
    jobOutcomes: countOutcomes(jobs.records.map((r) => r.outcome)),
    polls: verdict.polls,
    logged: stack.loggedProblems(),
  };
  return {
    fault: `${tally.framesSent} fuzz frames over ${fz.connections} connections from ${fz.sources} source addresses (${details.framesPerSecond} frames/s)`,
    agents: fleet.agents.length,
    jobs: jobs.records.length,
    converged: verdict.converged,
    convergeMs: verdict.convergeMs,
    violations: [...findings, ...verdict.violations],
    excused: verdict.excused,
    notes: [
      `${tally.framesSent} frames in ${tally.sessions} sessions over ${(fuzzMs / 1000).toFixed(1)} s: ${details.framesPerSecond} frames/s, ${details.sessionsPerSecond} sessions/s; seed ${seed} (FUZZ_SEED)`,
      `replies: ${histogram(tally.replies)}`,
      `close codes: ${histogram(tally.closeCodes)}`,
      `health: ${healthStats.ok}/${healthStats.polls} /healthz polls answered 200, slowest ${healthStats.slowestMs} ms`,
      `RSS ${details.rssMiB.start} MiB before, ${details.rssMiB.afterFuzz} MiB after the fuzz (high-water ${details.rssMiB.peakHwm} MiB), ${details.rssMiB.end} MiB at the end; bound +${bound} MiB`,
      `good agents: ${details.goodAgents.licensedAtEnd}/${good.length} licensed at the end, ${details.goodAgents.disturbed} disturbed; ${targets.length} unassigned and re-assigned mid-fuzz`,
    ],
    details,
  };
}

function histogram(m: Record<string, number>): string {
  return Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
}

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;

export const fuzz: ScenarioDef = {
  name: 'h-fuzz',
  title: 'random and mutated frames against a live gateway while good agents are served',
  quick: true,
  // The full form (boundMs 45 s) sends ten times the frames.
  timeoutMs: (s) => (s.boundMs > 20_000 ? 900_000 : 240_000) + s.boundMs + s.settleMs,
  run: runFuzz,
};
