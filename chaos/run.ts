/**
 * `npm run chaos [-- --quick] [--only a,b] [--agents N] [--out DIR]`
 *
 * Injects faults into real processes — redis-server, `licensegate serve` gateways and a worker,
 * agents that reconnect — and checks after each fault that the system converges within a bound
 * and keeps its promises (docs/chaos.md). Each scenario has its own processes and a hard
 * timeout and tears everything down whatever happens (also on Ctrl-C). Writes
 * chaos/results/latest.json and latest.md after every scenario.
 * Exit code: 0 every scenario passed, 1 any violation or error, 2 bad arguments, 130 interrupted.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../bench/lib/gateway.ts';
import { gitState, machineInfo } from '../bench/lib/machine.ts';
import { killAllChildren, Scope } from '../bench/lib/scope.ts';
import { markdown, textTable, type ChaosResults } from './lib/report.ts';
import { sizesFor, type ChaosOptions, type ScenarioDef, type ScenarioResult } from './lib/scenario.ts';
import { clockAhead, clockBehind } from './scenarios/clock-skew.ts';
import { clusterFailover, clusterFailoverEverysec, sentinelFailover, sentinelFailoverEverysec } from './scenarios/failover.ts';
import { fuzz } from './scenarios/fuzz.ts';
import { gatewayKill } from './scenarios/gateway-kill.ts';
import { netBlackhole, netDrop } from './scenarios/network-cut.ts';
import { redisKillAlways, redisKillEverysec } from './scenarios/redis-kill.ts';
import { redisPause } from './scenarios/redis-pause.ts';
import { workerKill } from './scenarios/worker-kill.ts';

/** In running order. */
const SCENARIOS: ScenarioDef[] = [gatewayKill, workerKill, redisKillEverysec, redisKillAlways, redisPause, clockAhead, clockBehind, netBlackhole, netDrop,
  sentinelFailover, sentinelFailoverEverysec, clusterFailover, clusterFailoverEverysec, fuzz];

const USAGE = `usage: npm run chaos -- [options]

  --quick         the CI form: fewer agents and jobs, shorter faults (${SCENARIOS.filter((s) => s.quick).length} scenarios, a few minutes)
  --only LIST     scenarios to run, comma-separated: ${SCENARIOS.map((s) => s.name).join(', ')}
                  (a prefix such as "c" selects every scenario starting with it)
  --agents N      fleet size of every scenario
  --out DIR       results directory (default chaos/results)
  -h, --help      this text`;

class UsageError extends Error {}

function parseOptions(argv: string[]): ChaosOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { quick: { type: 'boolean' }, only: { type: 'string' }, agents: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  let agents: number | undefined;
  if (values.agents !== undefined) {
    if (!/^\d+$/.test(values.agents) || Number(values.agents) < 10 || Number(values.agents) > 5_000) throw new UsageError(`--agents: "${values.agents}" must be a whole number from 10 to 5000`);
    agents = Number(values.agents);
  }
  const only = (values.only ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const o of only) if (!SCENARIOS.some((s) => s.name.startsWith(o))) throw new UsageError(`--only: no scenario "${o}"`);
  return { quick: values.quick === true, agents, only, outDir: resolve(values.out ?? join(ROOT, 'chaos/results')) };
}

function selected(opts: ChaosOptions): ScenarioDef[] {
  if (opts.only.length) return SCENARIOS.filter((s) => opts.only.some((o) => s.name === o || s.name.startsWith(o)));
  return SCENARIOS.filter((s) => !opts.quick || s.quick);
}

function log(message: string): void {
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

let current: Scope | undefined;

async function runScenario(def: ScenarioDef, opts: ChaosOptions, runDir: string): Promise<ScenarioResult> {
  const sizes = sizesFor(opts);
  const scope = new Scope();
  current = scope;
  const dir = join(runDir, def.name);
  mkdirSync(dir, { recursive: true });
  const timeoutMs = def.timeoutMs(sizes);
  const t0 = Date.now();
  log(`${def.name}: ${def.title} (hard timeout ${Math.round(timeoutMs / 1000)} s)`);
  let result: ScenarioResult;
  let timer: NodeJS.Timeout | undefined;
  try {
    const running = def.run({ name: def.name, opts, sizes, scope, dir, log: (m) => log(`${def.name}: ${m}`) });
    running.catch(() => {});
    const outcome = await Promise.race([
      running,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`hard timeout: not done after ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      }),
    ]);
    result = { name: def.name, title: def.title, ...outcome, pass: outcome.converged && outcome.violations.length === 0, durationMs: 0 };
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`${def.name}: ERROR ${message.split('\n')[0]}`);
    result = { name: def.name, title: def.title, fault: '', agents: 0, jobs: 0, converged: false, convergeMs: null, violations: [], excused: [], notes: [], details: {}, pass: false, durationMs: 0, error: message.slice(0, 4000) };
  } finally {
    clearTimeout(timer);
  }
  // Longer than a gateway's SIGTERM grace (15 s), so that its SIGKILL fallback is waited for.
  await scope.close(16_000);
  current = undefined;
  if (scope.cleanupErrors.length) result.details.teardownErrors = scope.cleanupErrors;
  rmSync(dir, { recursive: true, force: true });
  result.durationMs = Date.now() - t0;
  log(`${def.name}: ${result.pass ? 'pass' : 'FAIL'} (${result.violations.length} violations, ${result.excused.length} excused, converged ${result.convergeMs ?? 'no'} ms) in ${Math.round(result.durationMs / 1000)} s`);
  return result;
}

function write(opts: ChaosOptions, results: ChaosResults): void {
  mkdirSync(opts.outDir, { recursive: true });
  writeFileSync(join(opts.outDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(opts.outDir, 'latest.md'), markdown(results));
}

async function main(argv: string[]): Promise<number> {
  let opts: ChaosOptions | 'help';
  try {
    opts = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`chaos: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const options = opts;
  const started = new Date();
  const results: ChaosResults = {
    startedAt: started.toISOString(),
    finishedAt: started.toISOString(),
    durationMs: 0,
    quick: options.quick,
    machine: machineInfo(),
    git: gitState(ROOT),
    options: { agents: options.agents ?? null, only: options.only },
    scenarios: [],
    pass: false,
  };
  const runDir = join(options.outDir, 'tmp', started.toISOString().replace(/[:.]/g, '-'));
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping every process of the run`);
    killAllChildren();
    results.finishedAt = new Date().toISOString();
    write(options, results);
    void current?.close(2_000).finally(() => process.exit(130));
    setTimeout(() => process.exit(130), 3_000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const defs = selected(options);
  const sizes = sizesFor(options);
  log(`${options.quick ? 'quick' : 'full'} run: ${defs.map((d) => d.name).join(', ')}; ${sizes.agents} agents, bound ${sizes.boundMs} ms, settle ${sizes.settleMs} ms`);
  for (const def of defs) {
    if (interrupted) break;
    results.scenarios.push(await runScenario(def, options, runDir));
    results.finishedAt = new Date().toISOString();
    results.durationMs = Date.now() - started.getTime();
    results.pass = results.scenarios.every((r) => r.pass);
    write(options, results);
  }
  if (interrupted) return 130;
  rmSync(runDir, { recursive: true, force: true });
  process.stdout.write(`\n${textTable(results)}\n\nresults: ${join(options.outDir, 'latest.md')}\n`);
  return results.pass ? 0 : 1;
}

process.exit(await main(process.argv.slice(2)));
