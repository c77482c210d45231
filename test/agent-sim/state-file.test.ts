/** agent-sim --state: credentials survive between runs, written atomically and privately. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AgentState } from '../../agent-sim/agent.ts';
import { osProfile } from '../../agent-sim/os-mix.ts';
import { loadStateFile, saveStateFile, StateFileError } from '../../agent-sim/state-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'agent-sim-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const agent = (i: number, extra: Partial<AgentState> = {}): AgentState => ({
  clientId: `sim-abc-${i}`,
  tenantId: 'default',
  credential: `cred-${i}`,
  lastAckedSeq: i,
  os: osProfile(i % 2 ? 'cloud-server' : 'linux'),
  hostname: `host-${i}`,
  nonPersistent: i === 3,
  ...extra,
});

describe('agent-sim state file', () => {
  it('C2: a saved fleet loads back identical (ids, credentials, acked seq, OS, non-persistent)', async () => {
    const file = join(dir, 'fleet.json');
    const agents = Array.from({ length: 5 }, (_, i) => agent(i));
    await saveStateFile(file, { tenant: 'default', agents });
    expect(await loadStateFile(file, 'default')).toEqual({ tenant: 'default', agents });
    expect(statSync(file).mode & 0o777).toBe(0o600); // it holds credentials
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // Saving again replaces the file as a whole.
    await saveStateFile(file, { tenant: 'default', agents: agents.slice(0, 2) });
    expect((await loadStateFile(file, 'default'))!.agents).toEqual(agents.slice(0, 2));
  });

  it('C2: a missing file is an empty start; a failed save leaves the old file and no temporary behind', async () => {
    expect(await loadStateFile(join(dir, 'nope.json'), 'default')).toBeNull();
    const file = join(dir, 'keep.json');
    await saveStateFile(file, { tenant: 'default', agents: [agent(1)] });
    const before = readFileSync(file, 'utf8');
    await expect(saveStateFile(join(dir, 'no-such-dir', 'x.json'), { tenant: 'default', agents: [] })).rejects.toThrow(/ENOENT/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('C2: a file that is not a state file, repeats an id, or belongs to another tenant is refused clearly', async () => {
    const write = (name: string, body: string) => {
      const p = join(dir, name);
      writeFileSync(p, body);
      return p;
    };
    const valid = (agents: unknown[], tenant = 'default') => JSON.stringify({ format: 'licensegate-agent-sim-state', version: 1, tenant, agents });
    await expect(loadStateFile(write('garbage.json', '{not json'), 'default')).rejects.toThrow(/is not JSON/);
    await expect(loadStateFile(write('other.json', '{"hello":1}'), 'default')).rejects.toThrow(/is not an agent-sim state file \(format:/);
    await expect(loadStateFile(write('nocred.json', valid([{ ...agent(1), credential: undefined }])), 'default')).rejects.toThrow(/agents\.0\.credential/);
    await expect(loadStateFile(write('dup.json', valid([agent(1), agent(1)])), 'default')).rejects.toThrow(/lists client id sim-abc-1 twice/);
    await expect(loadStateFile(write('tenant.json', valid([agent(1)], 'acme')), 'default')).rejects.toThrow(/tenant "acme", not "default"/);
    await expect(loadStateFile(dir, 'default')).rejects.toBeInstanceOf(StateFileError);
  });
});
