/**
 * Issue 12: `agent-sim --state` keeps the fleet's OS mix. A second run that tops the fleet up
 * (agents that uninstalled left the state file) without repeating --os-mix enrolls the new
 * agents with the mix the file was made with, not the default one. Real CLI processes against
 * an in-process gateway.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OsFamily } from '../../src/protocol/wire.ts';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.ts';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'agent-sim-mix-'));
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ pool: { linux: 20, workstation: 20, 'infrastructure-server': 20 }, gateway: { heartbeatIntervalMs: 500 } });
});
afterAll(async () => {
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function agentSim(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stderr: string }> {
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

type Saved = { agents: { clientId: string; os: { family: number } }[] };
const saved = (file: string): Saved => JSON.parse(readFileSync(file, 'utf8')) as Saved;

describe('agent-sim --state and the OS mix', () => {
  it('C2 L2: a re-run without --os-mix enrolls the agents it adds with the mix the state file was made with', async () => {
    const state = join(dir, 'fleet.json');
    const common = ['--url', gw.url, '--token', TEST_TOKEN, '--agents', '8', '--state', state, '--quiet', '--seed', '7'];
    const first = await agentSim([...common, '--os-mix', 'linux:100', '--uninstall', '50', '--duration', '3s']);
    expect(first.code, first.stderr).toBe(0);
    const kept = saved(state).agents;
    expect(kept.length).toBeLessThan(8); // the uninstalled ones left the file
    expect(kept.every((a) => a.os.family === OsFamily.OS_FAMILY_LINUX)).toBe(true);

    const second = await agentSim([...common, '--duration', '2s']);
    expect(second.code, second.stderr).toBe(0);
    const fleet = saved(state).agents;
    expect(fleet).toHaveLength(8);
    expect(fleet.filter((a) => !kept.some((k) => k.clientId === a.clientId))).toHaveLength(8 - kept.length);
    expect(fleet.map((a) => a.os.family)).toEqual(Array(8).fill(OsFamily.OS_FAMILY_LINUX));
  }, 60_000);
});
