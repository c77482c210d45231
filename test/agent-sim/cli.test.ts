/**
 * The `agent-sim` CLI end to end: the real command (node bin/agent-sim.mjs) as a child process
 * against an in-process gateway. Child processes are spawned asynchronously (the gateway runs
 * on this event loop) and every run is bounded by its --duration plus a kill deadline.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PercentileSummary } from '../../agent-sim/histogram.ts';
import type { SimReport } from '../../agent-sim/report.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'agent-sim-cli-'));
const gateways: TestGateway[] = [];
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function gateway(pool: NonNullable<Parameters<typeof startTestGateway>[0]>['pool']): Promise<TestGateway> {
  // Short heartbeats so that a few-second run measures heartbeat round trips too.
  const gw = await startTestGateway({ pool, gateway: { heartbeatIntervalMs: 500 } });
  gateways.push(gw);
  return gw;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; kills it (this child only) if it outlives `timeoutMs`. */
function agentSim(args: string[], timeoutMs = 40_000): Promise<Run> {
  const child = spawn(process.execPath, [join(root, 'bin/agent-sim.mjs'), ...args], { cwd: root, env: { ...process.env, AGENT_SIM_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent-sim ${args.join(' ')} still running after ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const stateIds = (file: string): string[] => readJson<{ agents: { clientId: string; credential: string }[] }>(file).agents.map((a) => a.clientId);

function expectOrderedPercentiles(p: PercentileSummary | null, count: number): void {
  expect(p).not.toBeNull();
  expect(p!.count).toBe(count);
  expect(p!.min).toBeGreaterThan(0);
  expect(p!.min).toBeLessThanOrEqual(p!.p50);
  expect(p!.p50).toBeLessThanOrEqual(p!.p90);
  expect(p!.p90).toBeLessThanOrEqual(p!.p99);
  expect(p!.p99).toBeLessThanOrEqual(p!.max);
}

describe('agent-sim CLI', () => {
  it('L2 L4 C2 C3: 60 agents over 2 processes license up to the pool; a second run with --state reconnects the same Clients without enrolling', async () => {
    const gw = await gateway({ workstation: 30, linux: 10 });
    const state = join(dir, 'fleet.json');
    const report1 = join(dir, 'run1.json');
    const common = ['--url', gw.url, '--agents', '60', '--duration', '3s', '--procs', '2', '--seed', '42', '--state', state];

    const first = await agentSim([...common, '--token', gw.token, '--report', report1]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^licensed\s+40\s+workstation 30, linux 10$/m);
    expect(first.stderr).toMatch(/agent-sim\s+\S+\s+connected \d+\/60\s+licensed \d+\s+waiting \d+\s+commands \d+\s+errors 0\s+rate \d+\/s/);
    const r1 = readJson<SimReport>(report1);
    expect(r1.fleet).toEqual({ agents: 60, reused: 0, created: 60, byOs: { windows: 36, linux: 15, macos: 6, 'windows-server': 3 }, nonPersistent: 0, plannedUninstalls: 0 });
    expect(r1).toMatchObject({ agents: 60, started: 60, everConnected: 60, neverConnected: 0, connected: 60, exitCode: 0, interrupted: false });
    // 42 need workstation (pool 30), 15 linux (pool 10), 3 infrastructure-server (pool 0).
    expect(r1.licensed).toEqual({ total: 40, byType: { workstation: 30, linux: 10 } });
    expect(r1.unlicensed).toEqual({ total: 20, byReason: { NO_LICENSE_AVAILABLE: 20 } });
    expect(r1.waiting).toBe(20);
    expect(r1.monitoring).toBe(40);
    expect(r1.connections).toMatchObject({ welcomes: 60, enrolled: 60, reconnects: 0 });
    // Licensed by their Welcomes: no command went to anyone.
    expect(r1.commands).toEqual({ total: 0, byKind: {}, duplicates: 0 });
    expect(r1.errors).toEqual({ total: 0, byCode: {} });
    expect(r1.overloaded).toBe(0);
    expect(r1.outcomes).toEqual({ failedByCode: {}, unexpected: 0, stillConnecting: 0 });
    expect(r1.processes).toEqual({ total: 2, failed: 0 });
    expectOrderedPercentiles(r1.latencyMs.timeToWelcome, 60);
    expectOrderedPercentiles(r1.latencyMs.handshake, 60);
    expectOrderedPercentiles(r1.latencyMs.timeToLicense, 40);
    expect(r1.latencyMs.heartbeatRtt!.count).toBeGreaterThan(0);
    expect(r1.latencyMs.command).toBeNull();
    expect(JSON.stringify(r1)).not.toContain(gw.token);

    // Redis agrees: membership matches the pool, 60 Clients registered.
    const holders = async () => [await gw.redis.scard(gw.keys.holders('default', 'workstation')), await gw.redis.scard(gw.keys.holders('default', 'linux'))];
    expect(await holders()).toEqual([30, 10]);
    expect(await gw.redis.scard(gw.keys.clients('default'))).toBe(60);
    const ids = stateIds(state);
    expect(ids).toHaveLength(60);
    expect(new Set(ids)).toEqual(new Set(await gw.redis.smembers(gw.keys.clients('default'))));
    expect(statSync(state).mode & 0o777).toBe(0o600);

    // Second run: same fleet from --state, no token at all — every agent must use its credential.
    const report2 = join(dir, 'run2.json');
    const second = await agentSim([...common, '--report', report2, '--quiet']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toBe('');
    const r2 = readJson<SimReport>(report2);
    expect(r2.fleet).toMatchObject({ agents: 60, reused: 60, created: 0 });
    expect(r2).toMatchObject({ everConnected: 60, connected: 60, exitCode: 0 });
    expect(r2.connections).toMatchObject({ welcomes: 60, enrolled: 0 });
    expect(r2.licensed).toEqual(r1.licensed);
    expect(r2.commands.total).toBe(0); // nothing in any log to replay
    expect(r2.errors.total).toBe(0);
    expectOrderedPercentiles(r2.latencyMs.timeToWelcome, 60);
    expect(await holders()).toEqual([30, 10]);
    expect(await gw.redis.scard(gw.keys.clients('default'))).toBe(60);
    expect(stateIds(state)).toEqual(ids);
  }, 90_000);

  it('C8 C12 C13: churn reconnects agents, uninstalling agents free their licenses and leave the state file', async () => {
    const gw = await gateway({ linux: 20 });
    const state = join(dir, 'churn.json');
    const report = join(dir, 'churn-report.json');
    const run = await agentSim([
      '--url', gw.url, '--token', gw.token, '--agents', '30', '--os-mix', 'linux:1', '--duration', '4s', '--seed', '7',
      '--churn', '20', '--churn-interval', '1s', '--uninstall', '20', '--non-persistent', '10', '--state', state, '--report', report, '--json', '--quiet',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const r = readJson<SimReport>(report);
    expect(JSON.parse(run.stdout)).toEqual(r); // --json prints the same report
    expect(r.fleet).toMatchObject({ agents: 30, nonPersistent: 3, plannedUninstalls: 6 });
    expect(r.connections.uninstallNotices).toBe(6);
    expect(r.connections.uninstallsConfirmed).toBe(6);
    expect(r.uninstalled).toBe(6);
    expect(r.connections.churned).toBeGreaterThan(0);
    expect(r.connections.reconnects).toBeGreaterThan(0);
    expect(r.errors.total).toBe(0);
    expect(r.outcomes.unexpected).toBe(0);
    expect(r.licensed.byType.linux ?? 0).toBeLessThanOrEqual(20);

    // The 6 uninstalled Clients are gone from the state file, uninstalled in Redis and hold nothing.
    const kept = new Set(stateIds(state));
    expect(kept.size).toBe(24);
    const uninstalled = (await gw.redis.smembers(gw.keys.clients('default'))).filter((id) => !kept.has(id));
    expect(uninstalled).toHaveLength(6);
    const holders = new Set(await gw.redis.smembers(gw.keys.holders('default', 'linux')));
    for (const id of uninstalled) {
      expect(await gw.redis.hget(gw.keys.client('default', id), 'status')).toBe('uninstalled');
      expect(holders.has(id)).toBe(false);
    }
    expect(holders.size).toBeLessThanOrEqual(20);
  }, 60_000);

  it('C2: agents refused with an unexpected error (AUTH_FAILED) make the run exit 1', async () => {
    const gw = await gateway({ linux: 5 });
    const report = join(dir, 'auth.json');
    const run = await agentSim(['--url', gw.url, '--token', 'wrong-token-000000', '--agents', '3', '--os-mix', 'linux:1', '--duration', '1500ms', '--report', report, '--quiet']);
    expect(run.code).toBe(1);
    const r = readJson<SimReport>(report);
    expect(r.everConnected).toBe(0);
    expect(r.errors.byCode.AUTH_FAILED).toBeGreaterThanOrEqual(3);
    expect(r.outcomes).toMatchObject({ failedByCode: { AUTH_FAILED: 3 }, unexpected: 3 });
    expect(r.exitCode).toBe(1);
    expect(run.stdout).toMatch(/^exit 1/m);
  }, 30_000);

  it('R3: bad arguments exit 2 with a one-line error, and nothing connects', async () => {
    const remote = await agentSim(['--url', 'ws://192.0.2.1:8080', '--agents', '1', '--token', 't']);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(/^agent-sim: --url: 192\.0\.2\.1 is not a loopback address .*--allow-remote.*\n$/);
    expect(remote.stdout).toBe('');
    const noToken = await agentSim(['--url', 'ws://127.0.0.1:1', '--agents', '2']);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toBe('agent-sim: --token is required: 2 agent(s) have no credential yet and must enroll (or set AGENT_SIM_TOKEN)\n');
    const help = await agentSim(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: agent-sim/);
  }, 30_000);
});
