/**
 * The benchmark harness itself (not speed): a tiny quick run of every scenario writes a
 * complete report — each scenario with its value, baseline, ratio, goal and verdict — and the
 * markdown table the README quotes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const out = mkdtempSync(join(tmpdir(), 'lg-bench-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const SCENARIOS = ['baseline-ws', 'boot-storm', 'boot-storm-tls', 'reconnect-storm', 'idle', 'stop-latency', 'job-throughput', 'durability-boot-always', 'durability-boot-replicas', 'durability-jobs-always', 'durability-jobs-replicas', 'lua-bounds', 'redis-memory'];

describe('bench harness', () => {
  // Seven scenarios with their own processes (durability starts three stacks): allow for a loaded
  // 2-core machine (the run itself is bounded at 420 s: it took 357 s at load average 13 with boot-storm-tls, which adds two small storms, ~20 s).
  it('C4 C7 C13 F5 X5 Z1: a quick run writes every scenario with its baseline and ratio, as JSON and markdown', { timeout: 480_000 }, async () => {
    await run(process.execPath, ['--import', 'tsx', join(root, 'bench/run.ts'), '--quick', '--agents', '150', '--out', out], {
      cwd: root,
      timeout: 420_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
    expect(report.machine).toMatchObject({ cpus: expect.any(Number), node: process.version, redis: expect.stringMatching(/\d+\.\d+/) });
    expect(report.quick).toBe(true);
    for (const name of SCENARIOS) {
      const s = report.scenarios[name];
      expect(s, name).toBeDefined();
      expect(s.error, `${name}: ${s.error}`).toBeUndefined();
      expect(typeof s.value, name).toBe('number');
      expect(s.unit, name).toEqual(expect.any(String));
      expect(s.goal, name).toEqual(expect.any(String));
      expect(typeof s.met, name).toBe('boolean');
      if (name !== 'baseline-ws') {
        expect(typeof s.baseline, name).toBe('number');
        expect(typeof s.ratio, name).toBe('number');
      }
    }
    // X5: Redis commands per operation, from INFO commandstats summed over every master.
    const perOp = {
      'boot-storm': report.scenarios['boot-storm'].details.redisCommandsPerEnrollment,
      'reconnect-storm': report.scenarios['reconnect-storm'].details.redisCommandsPerReconnect,
      'idle-cpu': report.scenarios['idle-cpu'].details.redisCommandsPerHeartbeatFlush,
      'job-throughput': report.scenarios['job-throughput'].details.redisCommandsPerJob,
    };
    for (const [name, d] of Object.entries(perOp)) {
      expect(d?.perUnit, name).toBeGreaterThan(0);
      expect(d.masters, name).toBe(1);
      expect(d.commands.length, name).toBeGreaterThan(0);
    }
    // cluster-storm, failover and redis-commands start real topologies: full runs only (bench/README.md).
    expect(report.scenarios['cluster-storm']).toBeUndefined();
    expect(report.scenarios['redis-commands']).toBeUndefined();
    expect(report.scenarios['drain-single']).toBeUndefined();
    // Only the latest results are kept: no dated copies pile up.
    expect(readdirSync(out).filter((f) => f.endsWith('.json'))).toEqual(['latest.json']);
    const md = readFileSync(join(out, 'latest.md'), 'utf8');
    for (const name of SCENARIOS) expect(md).toContain(`| ${name} |`);
    expect(md).toMatch(/Redis commands per operation \(engine single; .*\): enrollment [\d.]+ · reconnect [\d.]+ · heartbeat flush [\d.]+ \([\d.]+ per agent\) · job [\d.]+\./);
  });
});
