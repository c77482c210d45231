/**
 * The chaos suite's convergence checker against real parts: an in-process gateway on the test
 * redis-server and ground-truth agents on real sockets. A healthy system converges clean; each
 * kind of damage the suite must find — a live agent missing from `online`, a license Redis
 * lost, a seq that went backwards, a Welcome that silently took a license, an acknowledged job
 * whose effect is gone, a relapse after a clean reading — is reported.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { agentSpecs } from '../../chaos/lib/agent-specs.ts';
import { checkAcknowledged } from '../../chaos/lib/checks/acknowledged.ts';
import { checkBeliefs } from '../../chaos/lib/checks/belief.ts';
import { checkCommandHistory, SEQ_RESTART_SKIP } from '../../chaos/lib/checks/commands.ts';
import { checkPresence } from '../../chaos/lib/checks/presence.ts';
import type { CheckInput, Finding } from '../../chaos/lib/checks/types.ts';
import { awaitConvergence } from '../../chaos/lib/convergence.ts';
import { GroundTruthFleet, type TruthAgent } from '../../chaos/lib/fleet.ts';
import type { JobRecord } from '../../chaos/lib/job-ledger.ts';
import { readRedisTruth } from '../../chaos/lib/redis-truth.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.ts';
import { singleRedis } from '../helpers/redis.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(n: number): Promise<{ gw: TestGateway; fleet: GroundTruthFleet; input: () => Promise<CheckInput> }> {
  // Pool for 6 of 10 agent types: agents 0–5 want workstations (3 licensed), 6–8 linux, 9 a server.
  const gw = await startTestGateway({ pool: { workstation: 3, linux: 3, 'infrastructure-server': 1 } });
  cleanups.push(() => gw.stop());
  const fleet = new GroundTruthFleet({ backoff: { baseMs: 50, capMs: 200 }, handshakeTimeoutMs: 5_000 });
  cleanups.push(() => fleet.close());
  fleet.add(agentSpecs({ n, tenantId: DEFAULT_TENANT, token: TEST_TOKEN, urls: [gw.url], prefix: `conv-${Math.random().toString(36).slice(2, 8)}` }));
  await fleet.connect(fleet.agents, 0);
  await fleet.waitConnected(10_000);
  const input = async (jobs: JobRecord[] = []): Promise<CheckInput> => ({
    fleet,
    truth: await readRedisTruth(singleRedis(gw.redis), gw.keys, fleet.agents.map((a) => a.spec)),
    nodeOfUrl: new Map([[gw.url, gw.gateway.nodeId]]),
    jobs,
    lossWindow: null,
  });
  return { gw, fleet, input };
}

const stateChecks = (i: CheckInput): Finding[] => [...checkBeliefs(i), ...checkPresence(i), ...i.truth.invariants.violations.map((v) => ({ check: 'invariants' as const, rule: 'L4', subject: '', message: v }))];

describe('chaos convergence checker', () => {
  it('C4 C7: a healthy fleet converges with no findings', async () => {
    const { input } = await setup(10);
    const verdict = await awaitConvergence({ boundMs: 5_000, settleMs: 300, pollMs: 50, evaluate: async () => stateChecks(await input()) });
    expect(verdict).toMatchObject({ converged: true, violations: [], relapses: 0 });
    expect(verdict.convergeMs).toBeLessThan(5_000);
  });

  it('F1: a live agent missing from the online hash is a presence violation, and it does not converge', async () => {
    const { gw, fleet, input } = await setup(4);
    const victim = fleet.agents[1]!;
    await gw.redis.hdel(gw.keys.online(DEFAULT_TENANT), victim.spec.clientId);
    await gw.redis.hset(gw.keys.online(DEFAULT_TENANT), 'ghost-client', 'some-node:1');
    const verdict = await awaitConvergence({ boundMs: 400, settleMs: 200, pollMs: 50, evaluate: async () => stateChecks(await input()) });
    expect(verdict.converged).toBe(false);
    expect(verdict.convergeMs).toBeNull();
    expect(verdict.violations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ check: 'presence', subject: victim.key }),
        expect.objectContaining({ check: 'presence', subject: `${DEFAULT_TENANT}/ghost-client` }),
      ]),
    );
  });

  it('C7: an agent that monitors while Redis lost its license is a belief violation', async () => {
    const { gw, fleet, input } = await setup(4);
    const licensed = fleet.agents.find((a) => a.belief.monitoring)!;
    await gw.redis.hset(gw.keys.client(DEFAULT_TENANT, licensed.spec.clientId), 'type', '');
    const findings = checkBeliefs(await input());
    expect(findings).toEqual([expect.objectContaining({ check: 'belief', rule: 'C7', subject: licensed.key })]);
  });

  it('C4: an agent kept out (AUTH_FAILED) is a lock-out', async () => {
    const { gw, fleet, input } = await setup(2);
    const a = fleet.agents[0]!;
    await gw.redis.hset(gw.keys.client(DEFAULT_TENANT, a.spec.clientId), 'credHash', 'not-its-credential');
    a.bounce();
    await a.agent.waitFor(() => a.agent.lastError?.code === 'AUTH_FAILED', 5_000);
    const findings = checkPresence(await input());
    expect(findings).toContainEqual(expect.objectContaining({ check: 'lockout', subject: a.key, message: expect.stringContaining('AUTH_FAILED') }));
  });

  it('C7 F4: a gap, a redelivery after the ack and a reused seq are command violations', () => {
    const fleet = new GroundTruthFleet({ backoff: { baseMs: 50, capMs: 200 }, handshakeTimeoutMs: 1_000 });
    const [a] = fleet.add(agentSpecs({ n: 1, tenantId: DEFAULT_TENANT, token: TEST_TOKEN, urls: ['ws://127.0.0.1:1'], prefix: 'hist' })) as [TruthAgent];
    const cmd = (seq: number, cmd: 'start' | 'stop', arg: string, duplicate: boolean) => ({ t: seq, kind: 'command' as const, conn: 1, seq, cmd, arg, duplicate });
    a.observations.push(cmd(1, 'start', 'workstation', false), cmd(2, 'stop', 'UNASSIGNED_BY_ADMIN', false));
    expect(checkCommandHistory(a)).toEqual([]);
    // The documented skip after a Redis restart (no seq is ever reused) is not a lost command.
    a.observations.push(cmd(2 + SEQ_RESTART_SKIP + 1, 'start', 'workstation', false));
    expect(checkCommandHistory(a)).toEqual([]);
    a.observations.length = 2;
    a.observations.push(cmd(4, 'start', 'workstation', false)); // 3 skipped
    a.observations.push(cmd(4, 'start', 'workstation', true)); // sent again after its ack
    a.observations.push(cmd(2, 'start', 'workstation', true)); // seq 2 reused for another command
    const findings = checkCommandHistory(a);
    expect(findings.map((f) => f.message)).toEqual([
      expect.stringContaining('1 command(s) skipped'),
      expect.stringContaining('delivered again'),
      expect.stringContaining('seq 2 reused'),
    ]);
  });

  it('R1: a Welcome that takes a license away with no StopMonitoring, and a lost acknowledged assign, are reported; a superseded one is not', async () => {
    const { fleet, input } = await setup(10);
    const waiting = fleet.agents.find((a) => !a.belief.monitoring)!;
    const holder = fleet.agents.find((a) => a.belief.monitoring)!;
    // The holder's next Welcome says unlicensed without a StopMonitoring: a silent loss.
    holder.observations.push({ t: fleet.now(), kind: 'welcome', conn: 99, url: '', licensed: false, type: null, reason: 'NO_LICENSE_AVAILABLE', registered: false, ackedAtHello: 0 });
    const assign = (id: string, clientId: string, tEnq: number): JobRecord => ({
      id,
      name: 'client.assign',
      input: { tenantId: DEFAULT_TENANT, clientId },
      tEnq,
      tRes: tEnq + 5,
      outcome: 'ok',
      result: { tenantId: DEFAULT_TENANT, clientId, status: 'active', online: true, license: 'workstation', reason: '', lastSeen: 0 },
    });
    const lost = assign('assign-lost', waiting.spec.clientId, fleet.now());
    let findings = checkAcknowledged({ ...(await input()), jobs: [lost] });
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ check: 'acknowledged', subject: holder.key, message: expect.stringContaining('no StopMonitoring follows') }),
        expect.objectContaining({ check: 'acknowledged', subject: waiting.key, message: expect.stringContaining('assign-lost') }),
      ]),
    );
    // A later unassign of the same Client explains the state: not a loss.
    const unassign: JobRecord = { ...lost, id: 'unassign-later', name: 'client.unassign', tEnq: lost.tEnq + 1, tRes: lost.tEnq + 10 };
    findings = checkAcknowledged({ ...(await input()), jobs: [lost, unassign] });
    expect(findings.filter((f) => f.subject === waiting.key)).toEqual([]);
    // Inside an everysec loss window the same findings are excused, not dropped.
    findings = checkAcknowledged({ ...(await input()), jobs: [lost], lossWindow: { from: 0, to: fleet.now() + 1_000, why: 'everysec' } });
    expect(findings.length).toBeGreaterThanOrEqual(2);
    expect(findings.every((f) => f.excused === 'everysec')).toBe(true);
  });

  it('F1: a clean reading that does not hold through the settle window is a relapse, not convergence', async () => {
    let calls = 0;
    const verdict = await awaitConvergence({
      boundMs: 300,
      settleMs: 10_000,
      pollMs: 20,
      evaluate: async () => (++calls === 1 ? [] : [{ check: 'presence', rule: 'F1', subject: 'x', message: 'reaped after resume' }]),
    });
    expect(verdict.converged).toBe(false);
    expect(verdict.relapses).toBe(1);
    expect(verdict.violations).toEqual([expect.objectContaining({ message: 'reaped after resume' })]);
  });
});
