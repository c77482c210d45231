/**
 * SPEC Z3: the agent simulator behaves like a real agent: each simulated install makes its
 * enrollment proof once, sends it with its enrollment, and keeps it with its client id in the
 * --state file; the gateway stores only its hash. The real `agent-sim` command as a child
 * process against a gateway, bounded by --duration plus a kill deadline.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/secrets.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const root = join(import.meta.dirname, '../..');
let dir: string;
let gw: TestGateway;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lg-id-sim-'));
  gw = await startTestGateway({ pool: { workstation: 20 } });
});
afterAll(async () => {
  await gw?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function agentSim(args: string[], timeoutMs = 40_000): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(root, 'bin/agent-sim.mjs'), ...args], { cwd: root, env: { ...process.env, AGENT_SIM_TOKEN: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent-sim still running after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('Z3 agent-sim enrollment proofs', () => {
  it('Z3: every simulated agent enrolls with its own proof, kept in the state file; the gateway stores its hash', async () => {
    const state = join(dir, 'fleet.json');
    const run = await agentSim(['--url', gw.url, '--agents', '12', '--duration', '2s', '--seed', '7', '--state', state, '--token', gw.token]);
    expect(run.code, run.stderr).toBe(0);
    const agents = (JSON.parse(readFileSync(state, 'utf8')) as { agents: { clientId: string; enrollmentProof?: string }[] }).agents;
    expect(agents).toHaveLength(12);
    expect(agents.every((a) => /^[\x21-\x7e]{16,128}$/.test(a.enrollmentProof ?? ''))).toBe(true);
    expect(new Set(agents.map((a) => a.enrollmentProof)).size).toBe(12);
    for (const a of agents) {
      expect(await gw.redis.hget(gw.keys.client('default', a.clientId), 'proofHash')).toBe(hashSecret(a.enrollmentProof!));
    }
    // A second run keeps each agent's proof with its client id.
    const again = await agentSim(['--url', gw.url, '--agents', '12', '--duration', '1s', '--seed', '7', '--state', state]);
    expect(again.code, again.stderr).toBe(0);
    const kept = (JSON.parse(readFileSync(state, 'utf8')) as { agents: { clientId: string; enrollmentProof?: string }[] }).agents;
    expect(kept.map((a) => [a.clientId, a.enrollmentProof])).toEqual(agents.map((a) => [a.clientId, a.enrollmentProof]));
  }, 60_000);
});
