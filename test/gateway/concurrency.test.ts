import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent-sim/agent.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { tenantPools } from '../../src/licensing/views.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ pool: { workstation: 100, linux: 40 } });
});
afterAll(() => gw.stop());

describe('concurrent first connects', () => {
  it('L3 L4 L5: 300 agents at once for a pool of 100 → exactly 100 licensed, none twice, counts match membership', async () => {
    const agents = Array.from({ length: 300 }, () => newAgent(gw.url, { os: OS.windows }));
    const welcomes = await Promise.all(agents.map((a) => a.connect()));
    const licensed = welcomes.filter((w) => w.license.licensed);
    expect(licensed).toHaveLength(100);
    expect(welcomes.filter((w) => w.license.reason === 'NO_LICENSE_AVAILABLE')).toHaveLength(200);
    const holders = await gw.redis.smembers(gw.keys.holders('default', 'workstation'));
    expect(new Set(holders).size).toBe(100);
    expect(holders.sort()).toEqual(agents.filter((a) => a.license?.licensed).map((a) => a.clientId).sort());
    expect(await gw.redis.zcard(gw.keys.waiting('default', 'workstation'))).toBe(200);
    const pool = (await tenantPools(gw.ctx, 'default')).find((p) => p.type === 'workstation');
    expect(pool).toMatchObject({ granted: 100, assigned: 100, available: 0, waiting: 200 });
    // The licensed agents monitor from their Welcome; no command went to anyone's log.
    expect(agents.filter((a) => a.monitoring).map((a) => a.clientId).sort()).toEqual(holders.sort());
    const seqs = await Promise.all(agents.map((a) => gw.redis.hget(gw.keys.client('default', a.clientId), 'seq')));
    expect(new Set(seqs)).toEqual(new Set(['0']));
    expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
    await Promise.all(agents.map((a) => a.close()));
  });

  it('L3: the same 60 Clients connecting from 3 sockets each at once still hold one license each', async () => {
    const originals = Array.from({ length: 60 }, () => newAgent(gw.url, { os: OS.linux }));
    await Promise.all(originals.map((a) => a.connect()));
    await Promise.all(originals.map((a) => a.close()));
    const copies: Agent[] = originals.flatMap((a) =>
      Array.from({ length: 3 }, () => new Agent({ url: gw.url, clientId: a.clientId, credential: a.credential!, os: OS.linux })),
    );
    await Promise.allSettled(copies.map((c) => c.connect()));
    expect(await gw.redis.scard(gw.keys.holders('default', 'linux'))).toBe(40);
    expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
    await Promise.all(copies.map((c) => c.close()));
  });
});
