/**
 * reconnect-storm: the fleet enrolls (not measured), the gateway restarts (SIGTERM: every agent
 * gets SHUTTING_DOWN / 1001 and is recorded offline), and the same fleet reconnects to the new
 * gateway process with its credentials and lastAckedSeq. Value: agents back online (Welcome,
 * still licensed) per second. License changes — audit entries written, holders that appeared
 * or vanished, commands received after the Welcomes — must be 0. Goal: ≥ 0.7 × baseline-ws.
 */
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { poolFor } from '../lib/fleet.ts';
import { licenseDiff, licenseSnapshot } from '../lib/ledger-snapshot.ts';
import { CpuWindow } from '../lib/proc-stats.ts';
import { connectTimeoutMs, ratio, type ScenarioDef } from '../lib/scenario.ts';
import { ENROLLMENT_TOKEN } from '../lib/setup.ts';
import { RedisCommandWindow } from '../lib/redis-stats.ts';
import { startStack } from '../lib/stack.ts';
import type { EnrollResult } from './boot-storm.ts';

export const GOAL_RECONNECT = 0.7;

type ReconnectResult = EnrollResult & { lostLicense: number; noCredential: number; commandsAfterReconnect: Record<string, number> };

export const reconnectStorm: ScenarioDef = {
  name: 'reconnect-storm',
  produces: ['reconnect-storm'],
  rows: { 'reconnect-storm': { unit: 'online/s', goal: `ratio ≥ ${GOAL_RECONNECT}, 0 license changes` } },
  needs: ['baseline-ws'],
  timeoutMs: (s) => 120_000 + 2 * connectTimeoutMs(s.fleet),
  async run(ctx) {
    const n = ctx.sizes.fleet;
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
    if (enrolled.licensed !== n) throw new Error(`only ${enrolled.licensed}/${n} agents were licensed before the restart: ${JSON.stringify(enrolled.finalFailures)}`);
    ctx.log(`${n} agents enrolled; restarting the gateway`);
    const t0 = performance.now();
    const exitCode = await stack.gateway.stop();
    const stopMs = Math.round(performance.now() - t0);
    const before = await licenseSnapshot(stack.redis.redis, stack.ledger.keys);
    const gateway = await stack.restartGateway();
    const commands = await RedisCommandWindow.start(stack.redis.redis);
    const cpu = new CpuWindow(stack.pids());
    const r = await ctx.profile('reconnect', stack.inspectors(), () => stack.driver.call<ReconnectResult>('reconnect', {
      url: gateway.url,
      count: n,
      concurrency: ctx.opts.concurrency,
      timeoutMs: connectTimeoutMs(n),
      sourceIps: ctx.sizes.sourceIps,
      settleMs: 1_000,
    }));
    const cpuPct = cpu.stop();
    const redisCommands = await commands.stop(n);
    const after = await licenseSnapshot(stack.redis.redis, stack.ledger.keys);
    const diff = await licenseDiff(stack.redis.redis, stack.ledger.keys, before, after);
    const commandsAfter = Object.values(r.commandsAfterReconnect).reduce((a, b) => a + b, 0);
    const invariants = await checkInvariants(stack.redis.redis, stack.ledger.keys);
    const backOnline = r.welcomed - r.lostLicense;
    const rate = r.elapsedMs > 0 ? Math.round((backOnline / r.elapsedMs) * 10_000) / 10 : 0;
    const changes = diff.changes + commandsAfter;
    ctx.log(`${backOnline}/${n} back online at ${rate}/s; license changes ${changes}`);
    const baseline = ctx.results['baseline-ws']?.value ?? null;
    const rt = ratio(rate, baseline);
    return {
      'reconnect-storm': {
        ...(backOnline !== n ? { error: `only ${backOnline}/${n} agents back online with their license: ${JSON.stringify(r.finalFailures)}` } : {}),
        value: rate,
        unit: 'online/s',
        baseline,
        baselineUnit: 'conn/s',
        ratio: rt,
        goal: `ratio ≥ ${GOAL_RECONNECT}, 0 license changes`,
        met: rt !== null && rt >= GOAL_RECONNECT && changes === 0 && backOnline === n,
        details: {
          agents: n,
          concurrency: ctx.opts.concurrency,
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
      },
    };
  },
};
