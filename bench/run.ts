/**
 * `npm run bench [-- --quick] [--only a,b] [--agents N] [--out DIR] [--concurrency C] [--profile]`
 *
 * Runs each scenario with its own processes (redis-server, gateway, worker, driver), measures a
 * baseline in the same run, and writes bench/results/latest.json and
 * latest.md (only the latest results are kept; history lives in git). Every scenario has a timeout and always tears its processes down; a failed or
 * timed-out scenario is recorded with `error` and `met: false`, and the run goes on, so the
 * results file is always written. Exit code 0 when the bench ran (goals missed or not), 1 when
 * a scenario failed with an error, 2 on bad arguments, 130 when interrupted.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ENGINES, type BenchEngine } from './lib/engine.ts';
import { ROOT } from './lib/gateway.ts';
import { gitState, machineInfo } from './lib/machine.ts';
import { InspectorSession } from './lib/inspector.ts';
import { summariseProfile, type ProfileSummary } from './lib/profile.ts';
import { markdown, textTable } from './lib/report.ts';
import { profileDir, sizesFor, type ScenarioDef } from './lib/scenario.ts';
import { killAllChildren, Scope } from './lib/scope.ts';
import type { BenchOptions, BenchResults, ScenarioResult } from './lib/types.ts';
import { baselineWs } from './scenarios/baseline-ws.ts';
import { bootStorm } from './scenarios/boot-storm.ts';
import { bootStormTls } from './scenarios/boot-storm-tls.ts';
import { bootStormMetrics } from './scenarios/boot-storm-metrics.ts';
import { clusterStorm } from './scenarios/cluster-storm.ts';
import { drainScenario } from './scenarios/drain.ts';
import { durability } from './scenarios/durability.ts';
import { failover } from './scenarios/failover.ts';
import { herd } from './scenarios/herd.ts';
import { idle } from './scenarios/idle.ts';
import { jobThroughput } from './scenarios/job-throughput.ts';
import { luaBounds } from './scenarios/lua-bounds.ts';
import { reconnectStorm } from './scenarios/reconnect-storm.ts';
import { redisCommands } from './scenarios/redis-commands.ts';
import { redisMemory } from './scenarios/redis-memory.ts';
import { stopLatency } from './scenarios/stop-latency.ts';

/** In running order. */
const SCENARIOS: ScenarioDef[] = [baselineWs, bootStorm, bootStormTls, bootStormMetrics, reconnectStorm, herd, idle, stopLatency, jobThroughput, durability, clusterStorm, failover, drainScenario, redisCommands, luaBounds, redisMemory];

const USAGE = `usage: npm run bench -- [options]

  --quick             smaller fleets and windows (about two minutes)
  --only LIST         scenarios to run, comma-separated (${SCENARIOS.flatMap((s) => s.produces).join(', ')});
                      (each storm measures its own paired bare-ws baseline)
  --agents N          fleet size of every scenario (overrides the full/quick defaults)
  --out DIR           results directory (default bench/results)
  --concurrency C     handshakes the driver keeps in flight (default 200)
 --merge             keep the other scenarios' rows of DIR/latest.json (and rewrite
                      latest.md from the whole): rerun some scenarios without losing the rest
  --engine E          Redis engine of the stacks: single (default), sentinel (1 primary + 2
                      replicas + 3 sentinels) or cluster (3 masters + 3 replicas); lua-bounds
                      always runs on one Redis, cluster-storm, failover and
                      redis-commands choose their own
  --profile           CPU-profile the gateway and worker during each measured window and
                      report their top functions (.cpuprofile files under DIR/tmp/profiles)
  -h, --help          this text`;

class UsageError extends Error {}

function parseOptions(argv: string[]): BenchOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean' },
        only: { type: 'string' },
        agents: { type: 'string' },
        out: { type: 'string' },
        concurrency: { type: 'string' },
        profile: { type: 'boolean' },
        merge: { type: 'boolean' },
        engine: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const positive = (flag: string, text: string | undefined, max: number): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new UsageError(`--${flag}: "${text}" must be a whole number from 1 to ${max}`);
    return Number(text);
  };
  const known = new Set(SCENARIOS.flatMap((s) => s.produces));
  const only = (values.only ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of only) if (!known.has(name)) throw new UsageError(`--only: unknown scenario "${name}" (one of ${[...known].join(', ')})`);
  const engine = (values.engine ?? 'single') as BenchEngine;
  if (!ENGINES.includes(engine)) throw new UsageError(`--engine: "${values.engine}" must be one of ${ENGINES.join(', ')}`);
  return {
    engine,
    quick: values.quick === true,
    agents: positive('agents', values.agents, 18_000),
    only,
    outDir: resolve(values.out ?? join(ROOT, 'bench/results')),
    concurrency: positive('concurrency', values.concurrency, 5_000) ?? 200,
    profile: values.profile === true,
    merge: values.merge === true,
  };
}

/** The scenarios to run: the ones asked for plus what they need, in running order. */
function selectScenarios(only: string[], quick: boolean): ScenarioDef[] {
  if (only.length === 0) return SCENARIOS.filter((s) => !(quick && s.fullRunOnly));
  const wanted = new Set(SCENARIOS.filter((s) => s.produces.some((p) => only.includes(p))).map((s) => s.name));
  for (const s of SCENARIOS) if (wanted.has(s.name)) for (const need of s.needs ?? []) wanted.add(need);
  return SCENARIOS.filter((s) => wanted.has(s.name));
}

const stamp = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function runScenario(def: ScenarioDef, opts: BenchOptions, runId: string, results: Record<string, ScenarioResult>): Promise<Record<string, ScenarioResult>> {
  const sizes = sizesFor(opts);
  const scope = new Scope();
  current = scope;
  const timeoutMs = def.timeoutMs(sizes);
  const cpuProfDir = opts.profile ? profileDir(opts.outDir, runId, def.name) : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const profiles: (ProfileSummary | { process: string; window: string; error: string })[] = [];
  const profile = async <T>(window: string, targets: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> => {
    if (!cpuProfDir) return fn();
    const sessions: { label: string; session: InspectorSession }[] = [];
    for (const [label, url] of Object.entries(targets)) {
      if (!url) continue;
      try {
        const session = await InspectorSession.open(url);
        scope.defer(`inspector ${label}`, () => session.close());
        await session.startProfiler();
        sessions.push({ label, session });
      } catch (err) {
        profiles.push({ process: label, window, error: (err as Error).message });
      }
    }
    try {
      return await fn();
    } finally {
      for (const { label, session } of sessions) {
        try {
          const data = await session.stopProfiler();
          const file = join(cpuProfDir, `${window}-${label}.cpuprofile`);
          writeFileSync(file, JSON.stringify(data));
          profiles.push(summariseProfile(data, { process: label, window, file }));
        } catch (err) {
          profiles.push({ process: label, window, error: (err as Error).message });
        } finally {
          session.close();
        }
      }
    }
  };
  const scratch = join(opts.outDir, 'tmp', runId, def.name);
  mkdirSync(scratch, { recursive: true });
  const t0 = performance.now();
  const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
  log(`${def.name}: starting (timeout ${Math.round(timeoutMs / 1000)} s)`);
  let out: Record<string, ScenarioResult>;
  let timer: NodeJS.Timeout | undefined;
  try {
    const running = def.run({ name: def.name, opts, sizes, scope, results, scratch, profile, log: (m) => log(`${def.name}: ${m}`) });
    running.catch(() => {}); // a timed-out run may still reject later
    out = await Promise.race([
      running,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`${def.name}: FAILED: ${message.split('\n')[0]}`);
    out = Object.fromEntries(
      def.produces.map((name) => [name, { value: null, ...def.rows[name]!, baseline: null, ratio: null, met: false, details: {}, error: message.slice(0, 4000) }]),
    );
  } finally {
    clearTimeout(timer);
  }
  await scope.close();
  current = undefined;
  rmSync(scratch, { recursive: true, force: true });
  const elapsedMs = Math.round(performance.now() - t0);
  for (const r of Object.values(out)) {
    if (r.error) r.met = false;
    r.details.scenarioMs = elapsedMs;
    // The box is shared: what else ran shows in the load average (1, 5, 15 min).
    r.details.loadAverage = { atStart: loadAtStart, atEnd: loadavg().map((x) => Math.round(x * 100) / 100) };
    // Other work on the machine during the measured window (e.g. a concurrent npm test).
    const others = (r.details.cpuPercent as Record<string, number | null> | undefined)?.others ?? null;
    if (others !== null && others > NOISY_OTHERS_PCT) {
      r.details.noisy = `other processes used ${others}% of a core during the measurement`;
      log(`${def.name}: warning: ${r.details.noisy as string}`);
    }
    if (scope.cleanupErrors.length) r.details.teardownErrors = scope.cleanupErrors;
    if (cpuProfDir) r.details.profile = profiles;
  }
  log(`${def.name}: done in ${Math.round(elapsedMs / 1000)} s`);
  return out;
}

let current: Scope | undefined;
/** Above this much CPU (% of one core) used by processes outside the scenario, a result is flagged noisy. */
const NOISY_OTHERS_PCT = 25;

/**
 * --merge: the rows of DIR/latest.json this run did not produce are kept, and the rows it did
 * produce say which run measured them (details.run); the file's header stays the earlier run's,
 * with this run listed in `mergedRuns`.
 */
function mergeInto(opts: BenchOptions, results: BenchResults): BenchResults {
  let old: BenchResults;
  try {
    old = JSON.parse(readFileSync(join(opts.outDir, 'latest.json'), 'utf8')) as BenchResults;
  } catch {
    return results;
  }
  const run = { startedAt: results.startedAt, quick: results.quick, options: results.options, git: results.git, loadAverageAtStart: results.loadAverageAtStart };
  const fresh = Object.fromEntries(Object.entries(results.scenarios).map(([k, r]) => [k, { ...r, details: { ...r.details, run } }]));
  const mergedRuns = [...(old.mergedRuns ?? []).filter((m) => m.startedAt !== results.startedAt), run];
  return { ...old, mergedRuns, scenarios: { ...old.scenarios, ...fresh } };
}

function writeResults(opts: BenchOptions, current: BenchResults): void {
  mkdirSync(opts.outDir, { recursive: true });
  const results = opts.merge ? mergeInto(opts, current) : current;
  const json = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(join(opts.outDir, 'latest.json'), json);
  writeFileSync(join(opts.outDir, 'latest.md'), markdown(results));
}

async function main(argv: string[]): Promise<number> {
  let opts: BenchOptions | 'help';
  try {
    opts = parseOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const options = opts;
  const started = new Date();
  const runId = stamp(started);
  const results: BenchResults = {
    startedAt: started.toISOString(),
    finishedAt: started.toISOString(),
    durationMs: 0,
    machine: machineInfo(),
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    git: gitState(ROOT),
    quick: options.quick,
    options: { agents: options.agents ?? null, only: options.only, concurrency: options.concurrency, profile: options.profile, engine: options.engine },
    scenarios: {},
  };
  let interrupted = false;
  const selected = selectScenarios(options.only, options.quick);
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping every process of the bench`);
    killAllChildren();
    for (const def of selected) {
      for (const name of def.produces) {
        results.scenarios[name] ??= { value: null, ...def.rows[name]!, baseline: null, ratio: null, met: false, details: {}, error: `interrupted (${signal})` };
      }
    }
    results.finishedAt = new Date().toISOString();
    writeResults(options, results);
    void current?.close(2_000).finally(() => process.exit(130));
    setTimeout(() => process.exit(130), 3_000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const sizes = sizesFor(options);
  log(`${options.quick ? 'quick' : 'full'} run ${runId}: fleet ${sizes.fleet}, stop-latency ${sizes.stopAgents} agents, job-throughput ${sizes.throughputAgents} agents, driver concurrency ${options.concurrency}, engine ${options.engine}`);
  for (const def of selected) {
    if (interrupted) break;
    let out = await runScenario(def, options, runId, results.scenarios);
    // One retry for a failure that is not a timeout: on a shared machine a process may be
    // killed from outside (e.g. someone's `pkill -f licensegate`). The first error is kept.
    const failed = Object.values(out).find((r) => r.error && !/timed out/.test(r.error));
    if (failed && !interrupted) {
      log(`${def.name}: retrying once after: ${failed.error!.split('\n')[0]}`);
      out = await runScenario(def, options, runId, results.scenarios);
      for (const r of Object.values(out)) r.details.firstAttemptError = failed.error;
    }
    Object.assign(results.scenarios, out);
    results.finishedAt = new Date().toISOString();
    results.durationMs = Date.now() - started.getTime();
    writeResults(options, results); // after every scenario: a crash later still leaves results
  }
  if (interrupted) return 130;
  rmSync(join(options.outDir, 'tmp', runId), { recursive: true, force: true });
  process.stdout.write(`\n${textTable(results)}\n\nresults: ${join(options.outDir, 'latest.json')}\n`);
  return Object.values(results.scenarios).some((r) => r.error) ? 1 : 0;
}

process.exit(await main(process.argv.slice(2)));
