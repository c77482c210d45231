import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { LicenseType } from '../../src/protocol/wire.ts';
import { Agent } from '../../agent-sim/agent.ts';
import { runJsonScript } from '../../src/licensing/ledger-context.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { removeSerialKey } from '../../src/licensing/serial-key-ledger.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { activatePool } from '../helpers/ledger.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ pool: { workstation: 10, 'terminal-server': 10, 'infrastructure-server': 10, 'cloud-server': 10, linux: 1 } });
});
afterAll(async () => {
  expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
  await gw.stop();
});

describe('first connect', () => {
  const cases: [string, keyof typeof OS, string, LicenseType][] = [
    ['Windows desktop', 'windows', 'workstation', LicenseType.LICENSE_TYPE_WORKSTATION],
    ['macOS', 'macos', 'workstation', LicenseType.LICENSE_TYPE_WORKSTATION],
    ['Windows Server', 'windowsServer', 'infrastructure-server', LicenseType.LICENSE_TYPE_INFRASTRUCTURE_SERVER],
    ['Windows Server with RDS', 'terminalServer', 'terminal-server', LicenseType.LICENSE_TYPE_TERMINAL_SERVER],
    ['Windows Server on a cloud', 'cloudServer', 'cloud-server', LicenseType.LICENSE_TYPE_CLOUD_SERVER],
  ];
  for (const [name, os, type, wire] of cases) {
    it(`L2 C3: ${name} gets a ${type} license in its Welcome and monitors, with no command to acknowledge`, async () => {
      const agent = newAgent(gw.url, { os: OS[os] });
      const welcome = await agent.connect();
      expect(welcome.clientCredential).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(welcome.license).toEqual({ licensed: true, type: wire, reason: '' });
      expect(agent.monitoring).toBe(true);
      await roundTrip(agent); // anything sent after the Welcome has arrived by now
      expect(agent.commands).toEqual([]);
      expect(await gw.redis.hget(gw.keys.client('default', agent.clientId), 'seq')).toBe('0');
      expect(await gw.redis.exists(gw.keys.commands('default', agent.clientId))).toBe(0);
      expect(await gw.redis.sismember(gw.keys.holders('default', type), agent.clientId)).toBe(1);
      await agent.close();
    });
  }

  it('C3: an exhausted pool registers the Client unlicensed, NO_LICENSE_AVAILABLE, waiting', async () => {
    const first = newAgent(gw.url, { os: OS.linux });
    expect((await first.connect()).license.licensed).toBe(true);
    const second = newAgent(gw.url, { os: OS.linux });
    const welcome = await second.connect();
    expect(welcome.license).toEqual({ licensed: false, type: LicenseType.LICENSE_TYPE_UNSPECIFIED, reason: 'NO_LICENSE_AVAILABLE' });
    expect(welcome.clientCredential).toBeTruthy();
    expect(await gw.redis.zscore(gw.keys.waiting('default', 'linux'), second.clientId)).not.toBeNull();
    expect(await gw.redis.scard(gw.keys.holders('default', 'linux'))).toBe(1);
    await roundTrip(second);
    expect(second.commands).toEqual([]);
    expect(second.monitoring).toBe(false);
    await Promise.all([first.close(), second.close()]);
  });

  it('C3: an OS that matches no type registers the Client unlicensed, NO_MATCHING_TYPE', async () => {
    const agent = newAgent(gw.url, { os: OS.unknown });
    const welcome = await agent.connect();
    expect(welcome.license).toEqual({ licensed: false, type: LicenseType.LICENSE_TYPE_UNSPECIFIED, reason: 'NO_MATCHING_TYPE' });
    expect(await gw.redis.hget(gw.keys.client('default', agent.clientId), 'status')).toBe('active');
    await agent.close();
  });

  it('C2 L3: a reconnect with the credential keeps the license and assigns nothing new', async () => {
    const agent = newAgent(gw.url, { os: OS.windows });
    await agent.connect();
    await agent.close();
    const again = await agent.connect();
    expect(again.clientCredential).toBeUndefined();
    expect(again.license.licensed).toBe(true);
    expect(agent.monitoring).toBe(true);
    await roundTrip(agent);
    expect(await gw.redis.hget(gw.keys.client('default', agent.clientId), 'seq')).toBe('0');
    expect(agent.commands).toHaveLength(0);
    await agent.close();
  });

  it('C7: unacknowledged commands are delivered again on the next connect, and an ack trims them', async () => {
    const agent = newAgent(gw.url, { os: OS.macos, autoAck: false });
    await agent.connect();
    await agent.close();
    // While it is away an admin takes its license and gives it back: StopMonitoring, StartMonitoring.
    await runJsonScript(gw.ctx, 'adminUnassign', 'default', [agent.clientId, Date.now(), 'test', 'test']);
    await runJsonScript(gw.ctx, 'adminAssign', 'default', [agent.clientId, '', '0', Date.now(), 'test', 'test']);
    await agent.connect();
    await agent.waitFor(() => agent.commands.length === 2);
    await agent.close();
    await agent.connect();
    await agent.waitFor(() => agent.commands.length === 4);
    expect(agent.commands.map((c) => [c.seq, c.kind])).toEqual([[1, 'stop'], [2, 'start'], [1, 'stop'], [2, 'start']]);
    expect(agent.monitoring).toBe(true);
    agent.ack(2);
    await agent.waitFor(() => agent.lastAckedSeq === 2);
    // The ack reached Redis: the log is trimmed and a third connect replays nothing.
    const commandsKey = gw.keys.commands('default', agent.clientId);
    await expect.poll(() => gw.redis.xlen(commandsKey)).toBe(0);
    await agent.close();
    await agent.connect();
    await agent.sendHeartbeat();
    await new Promise<void>((resolve) => agent.once('heartbeat-ack', () => resolve()));
    expect(agent.commands).toHaveLength(4);
    await agent.close();
  });

  it('C3 C7: a license a Hello assigns while older commands are pending is queued after them, so replay ends licensed', async () => {
    // Its own gateway and pools: a workstation key that is removed while the agent is away, and
    // free Linux licenses for when it comes back reporting Linux.
    const own = await startTestGateway({});
    try {
      const workstationKey = await activatePool(own.ctx, { workstation: 1 });
      await activatePool(own.ctx, { linux: 1 });
      const agent = newAgent(own.url, { os: OS.windows });
      expect((await agent.connect()).license.licensed).toBe(true);
      await agent.close();
      await removeSerialKey(own.ctx, TECHNICIAN, workstationKey); // StopMonitoring{KEY_REMOVED} waits in its log
      const back = new Agent({ url: own.url, tenantId: 'default', clientId: agent.clientId, credential: agent.credential!, os: OS.linux, lastAckedSeq: agent.lastAckedSeq });
      const welcome = await back.connect();
      expect(welcome.license).toEqual({ licensed: true, type: LicenseType.LICENSE_TYPE_LINUX, reason: '' });
      await back.waitFor(() => back.commands.length === 2);
      expect(back.commands.map((c) => [c.seq, c.kind])).toEqual([[1, 'stop'], [2, 'start']]);
      expect(back.monitoring).toBe(true);
      await back.close();
      expect(await checkInvariants(own.redis, own.keys)).toEqual({ ok: true, violations: [] });
    } finally {
      await own.stop();
    }
  });
});

/** One heartbeat round trip: frames the gateway sent before its HeartbeatAck have arrived. */
async function roundTrip(agent: Agent): Promise<void> {
  const acked = new Promise<void>((resolve) => agent.once('heartbeat-ack', () => resolve()));
  await agent.sendHeartbeat();
  await acked;
}
