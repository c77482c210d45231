/**
 * The README's admin API walkthrough, run as written (SPEC H1–H4; issue 12's "done when"): a
 * fresh zero-config `licensegate serve` prints the set-up link; the block between the
 * `api-walkthrough` markers runs in bash with curl against it, with one agent connected. Only
 * what a reader substitutes is substituted: the address (this test's ports), the set-up token,
 * and `npx licensegate` (a temp working directory has no node_modules; the repo's bin is used).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { clearedTargetEnv } from '../../src/store/redis-target.ts';
import { OS, newAgent } from '../helpers/agents.ts';
import { startGatewayProcess } from '../helpers/gateway-process.ts';

const repo = resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(join(tmpdir(), 'lg-readme-'));
const work = mkdtempSync(join(tmpdir(), 'lg-readme-work-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

function walkthrough(): string {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const m = /<!-- api-walkthrough:start -->\n```sh\n([\s\S]*?)```\n<!-- api-walkthrough:end -->/.exec(readme);
  if (!m) throw new Error('README.md has no api-walkthrough block');
  return m[1]!;
}

function bash(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile('bash', ['-c', script], { cwd: work, env, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe("the README's admin API walkthrough", () => {
  it('H1 H2 H3 H4: runs as written after npm start — set-up link, sign-in, token, licenses, tenant, grant, Clients, unassign (the agent stops), audit + CSV, live events, /metrics, remote CLI', async () => {
    const gw = await startGatewayProcess({ ...clearedTargetEnv(), KEY_PREFIX: '', QUEUE_PREFIX: '', LICENSE_POOL: '', ENROLLMENT_TOKEN: '', DATA_DIR: dataDir }, 40_000);
    let agent: Agent | undefined;
    try {
      const out = gw.output();
      const setup = /admin set-up: (\S+)\/setup#token=([A-Za-z0-9_-]+)/.exec(out);
      const enrollment = /enrollment-token=(\S+)/.exec(out);
      expect(setup, out).not.toBeNull();
      expect(enrollment, out).not.toBeNull();
      agent = newAgent(gw.url, { enrollmentToken: enrollment![1]!, os: OS.linux });
      await agent.connect();
      await agent.waitFor(() => agent!.monitoring, 10_000);

      const script = walkthrough()
        .replaceAll('http://127.0.0.1:8081', setup![1]!)
        .replace(/^SETUP_TOKEN=.*$/m, `SETUP_TOKEN=${setup![2]!}`)
        .replaceAll('npx licensegate', `node ${join(repo, 'bin/licensegate.mjs')}`);
      expect(script).not.toContain('8081'); // every address was this test's
      const run = await bash(`set -u\n${script}`, { ...process.env, ...clearedTargetEnv(), DATA_DIR: dataDir, LICENSEGATE_NO_INSTALL: '1' });
      const text = run.stdout;
      expect(run.stderr, text).not.toMatch(/unbound variable|command not found/);
      expect(text).toContain('"passwordSet":true'); // set-up
      expect(text).toMatch(/"type":"linux","total":\d+/); // /licenses
      expect(text).toMatch(/"id":"acme","name":"Acme".*"enrollmentToken":"[^"]+"/); // POST /tenants
      expect(text).toMatch(/"tenantId":"acme","type":"linux","granted":5/); // grant
      expect(text).toContain(`"clientId":"${agent.clientId}"`); // Clients page
      expect(text).toMatch(/"entries":\[\{/); // audit page
      expect(text).toMatch(/^retry: \d+$/m); // the SSE stream's head
      expect(text).toMatch(/^event: license\.unassigned$/m); // …and the unassign, live
      expect(text).toMatch(/^licensegate_connections\{[^}]*\} \d+$/m); // /metrics
      expect(text).toMatch(/^TYPE\s+TOTAL/m); // the remote CLI's availability table
      // The unassign reached the agent (C7) and the CSV export was written.
      await agent.waitFor(() => !agent!.monitoring, 10_000);
      expect(agent.commands.some((c) => c.kind === 'stop')).toBe(true);
      expect(existsSync(join(work, 'audit.csv'))).toBe(true);
      expect(readFileSync(join(work, 'audit.csv'), 'utf8').split('\n')[0]).toMatch(/^"?id"?,/);
    } finally {
      await agent?.close();
      await gw.stop();
    }
  });
});
