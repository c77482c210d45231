/**
 * reconnect-storm: the fleet enrolls (not measured), the gateway restarts (SIGTERM: every agent
 * gets SHUTTING_DOWN / 1001 and is recorded offline), and the same fleet reconnects to the new
 * gateway process with its credentials and lastAckedSeq. Value: agents back online (Welcome,
 * still licensed) per second. License changes — audit entries written, holders that appeared
 * or vanished, commands received after the Welcomes — must be 0. Goal: ≥ 0.7 × baseline-ws.
 *
 * Median of three trials, fresh processes each, like baseline-ws: every trial starts its own
 * redis-server, ledger, gateway and driver, enrolls, restarts and reconnects, and stops them
 * before the next one. The value (and every figure in details) is the median trial's;
 * `details.trialsPerSec` lists every trial's rate, and the goal is met only when every trial
 * brought the whole fleet back online with 0 license changes. With --profile, only the first
 * trial is profiled.
 */
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { poolFor } from '../lib/fleet.ts';
import { licenseDiff, licenseSnapshot } from '../lib/ledger-snapshot.ts';
import { CpuWindow } from '../lib/proc-stats.ts';
import { connectTimeoutMs, ratio, type ScenarioDef } from '../lib/scenario.ts';
import { ENROLLMENT_TOKEN } from '../lib/setup.ts';
import { RedisCommandWindow, type CommandDelta } from '../lib/redis-stats.ts';
import { startStack } from '../lib/stack.ts';
import { medianTrial, TRIALS, type EnrollResult } from './boot-storm.ts';

export const GOAL_RECONNECT = 0.7;

type ReconnectResult = EnrollResult & { lostLicense: number; noCredential: number; commandsAfterReconnect: Record<string, number> };

type Trial = {
  rate: number;
  backOnline: number;
  changes: number;
  details: Record<string, unknown> & { cpuPercent: Record<string, number | null>; redisCommandsPerAgent: CommandDelta; reconnect: ReconnectResult };
};

export const reconnectStorm: ScenarioDef = {
  name: 'reconnect-storm',
  produces: ['reconnect-storm'],
  rows: { 'reconnect-storm': { unit: 'online/s', goal: `ratio ≥ ${GOAL_RECONNECT}, 0 license changes` } },
  needs: ['baseline-ws'],
  // Per trial: start-up, the enrollment, the restart, the reconnect storm, and the teardown.
  timeoutMs: (s) => 30_000 + TRIALS * (90_000 + 2 * connectTimeoutMs(s.fleet)),
  async run(ctx) {
    const n = ctx.sizes.fleet;
    const trials: Trial[] = [];
    for (let t = 0; t < TRIALS; t++) {
      const trial = `trial ${t + 1}`;
      const stack = await startStack(ctx, { pool: poolFor(n) });
      const enrolled = await stack.driver.call<EnrollResult>('enroll', {
        url: stack.gateway.url,
        count: n,
        prefix: 'fleet',
        token: ENROLLMENT_TOKEN,
        concurrency: ctx.opts.concurrency,
        timeoutMs: connectTimeoutMs(n),
        sourceIps: ctx.sizes.sourceIps,
        waitLicense: true,
      });
      if (enrolled.licensed !== n) throw new Error(`${trial}: only ${enrolled.licensed}/${n} agents were licensed before the restart: ${JSON.stringify(enrolled.finalFailures)}`);
      ctx.log(`${trial}: ${n} agents enrolled; restarting the gateway`);
      const t0 = performance.now();
      const exitCode = await stack.gateway.stop();
      const stopMs = Math.round(performance.now() - t0);
      const before = await licenseSnapshot(stack.redis.redis, stack.ledger.keys);
      const gateway = await stack.restartGateway();
      const commands = await RedisCommandWindow.start(stack.redis.redis);
      const cpu = new CpuWindow(stack.pids());
      const reconnect = () =>
        stack.driver.call<ReconnectResult>('reconnect', {
          url: gateway.url,
          count: n,
          concurrency: ctx.opts.concurrency,
          timeoutMs: connectTimeoutMs(n),
          sourceIps: ctx.sizes.sourceIps,
          settleMs: 1_000,
        });
      // --profile: the first trial only (its rate then includes the profiler's overhead).
      const r = t === 0 ? await ctx.profile('reconnect', stack.inspectors(), reconnect) : await reconnect();
      const cpuPct = cpu.stop();
      const redisCommands = await commands.stop(n);
      const after = await licenseSnapshot(stack.redis.redis, stack.ledger.keys);
      const diff = await licenseDiff(stack.redis.redis, stack.ledger.keys, before, after);
      const commandsAfter = Object.values(r.commandsAfterReconnect).reduce((a, b) => a + b, 0);
      const invariants = await checkInvariants(stack.redis.redis, stack.ledger.keys);
      const backOnline = r.welcomed - r.lostLicense;
      const rate = r.elapsedMs > 0 ? Math.round((backOnline / r.elapsedMs) * 10_000) / 10 : 0;
      const changes = diff.changes + commandsAfter;
      ctx.log(`${trial}: ${backOnline}/${n} back online at ${rate}/s; license changes ${changes}`);
      await stack.stop();
      trials.push({
        rate,
        backOnline,
        changes,
        details: {
          backOnline,
          licenseChanges: changes,
          ledgerDiff: diff,
          commandsAfterReconnect: r.commandsAfterReconnect,
          invariants,
          gatewayStop: { exitCode, ms: stopMs },
          enroll: { ratePerSec: enrolled.ratePerSec, elapsedMs: enrolled.elapsedMs },
          reconnect: r,
          cpuPercent: cpuPct,
          redisCommandsPerAgent: redisCommands,
        },
      });
    }
    const { trial: m, index } = medianTrial(trials, (x) => x.rate);
    const problems = trials.flatMap((x, i) => [
      ...(x.backOnline !== n ? [`trial ${i + 1}: only ${x.backOnline}/${n} agents back online with their license: ${JSON.stringify(x.details.reconnect.finalFailures)}`] : []),
      ...(x.changes !== 0 ? [`trial ${i + 1}: ${x.changes} license changes`] : []),
    ]);
    const incomplete = trials.some((x) => x.backOnline !== n);
    const baseline = ctx.results['baseline-ws']?.value ?? null;
    const rt = ratio(m.rate, baseline);
    return {
      'reconnect-storm': {
        // Missing agents are an error, as they were; license changes only fail the goal.
        ...(incomplete ? { error: problems.join('; ') } : {}),
        value: m.rate,
        unit: 'online/s',
        baseline,
        baselineUnit: 'conn/s',
        ratio: rt,
        goal: `ratio ≥ ${GOAL_RECONNECT}, 0 license changes`,
        met: rt !== null && rt >= GOAL_RECONNECT && problems.length === 0,
        details: {
          agents: n,
          concurrency: ctx.opts.concurrency,
          trialsPerSec: trials.map((x) => x.rate),
          medianTrial: index + 1,
          // The median trial's figures, as a single trial's were before.
          ...m.details,
          trials: trials.map((x) => ({
            ratePerSec: x.rate,
            backOnline: x.backOnline,
            licenseChanges: x.changes,
            elapsedMs: x.details.reconnect.elapsedMs,
            cpuPercent: x.details.cpuPercent,
            redisCommandsPerAgent: x.details.redisCommandsPerAgent.perUnit,
          })),
        },
      },
    };
  },
};
