import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { LicenseType } from '../../src/protocol/wire.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

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
    it(`L2 C3: ${name} gets a ${type} license and StartMonitoring`, async () => {
      const agent = newAgent(gw.url, { os: OS[os] });
      const welcome = await agent.connect();
      expect(welcome.clientCredential).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(welcome.license).toEqual({ licensed: true, type: wire, reason: '' });
      await agent.waitFor(() => agent.lastAckedSeq === 1);
      expect(agent.commands).toMatchObject([{ seq: 1, kind: 'start', licenseType: wire }]);
      expect(agent.monitoring).toBe(true);
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
    await first.waitFor(() => first.lastAckedSeq === 1);
    expect(second.commands).toEqual([]);
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
    await agent.waitFor(() => agent.lastAckedSeq === 1);
    await agent.close();
    const again = await agent.connect();
    expect(again.clientCredential).toBeUndefined();
    expect(again.license.licensed).toBe(true);
    expect(await gw.redis.hget(gw.keys.client('default', agent.clientId), 'seq')).toBe('1');
    expect(agent.commands).toHaveLength(1);
    await agent.close();
  });

  it('C7: an unacknowledged StartMonitoring is delivered again on the next connect', async () => {
    const agent = newAgent(gw.url, { os: OS.macos, autoAck: false });
    await agent.connect();
    await agent.waitFor(() => agent.commands.length === 1);
    await agent.close();
    await agent.connect();
    await agent.waitFor(() => agent.commands.length === 2);
    expect(agent.commands.map((c) => [c.seq, c.kind])).toEqual([[1, 'start'], [1, 'start']]);
    agent.ack(1);
    await agent.waitFor(() => agent.lastAckedSeq === 1);
    // The ack reached Redis: the log is trimmed and a third connect replays nothing.
    const commandsKey = gw.keys.commands('default', agent.clientId);
    await expect.poll(() => gw.redis.xlen(commandsKey)).toBe(0);
    await agent.close();
    await agent.connect();
    await agent.sendHeartbeat();
    await new Promise<void>((resolve) => agent.once('heartbeat-ack', () => resolve()));
    expect(agent.commands).toHaveLength(2);
    await agent.close();
  });
});
