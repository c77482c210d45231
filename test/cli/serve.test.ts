import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent-sim/agent.ts';
import { LicenseType } from '../../src/protocol/wire.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess } from '../helpers/gateway-process.ts';

const root = join(import.meta.dirname, '../..');
const dataDir = mkdtempSync(join(tmpdir(), 'lg-serve-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** The zero-config default: no REDIS_URL, so serve starts and owns its redis-server. */
const zeroConfig = { REDIS_URL: '', KEY_PREFIX: '', LICENSE_POOL: '', DATA_DIR: dataDir, ENROLLMENT_TOKEN: TEST_TOKEN };

describe('licensegate serve', () => {
  it('R1 R3: with REDIS_URL unset it runs an embedded Redis with AOF, serves agents, and keeps them across a restart', async () => {
    const first = await startGatewayProcess(zeroConfig);
    const agent = newAgent(first.url, { os: OS.linux });
    const welcome = await agent.connect();
    expect(welcome.license).toEqual({ licensed: true, type: LicenseType.LICENSE_TYPE_LINUX, reason: '' });
    expect(agent.monitoring).toBe(true);
    const health = await fetch(`${first.healthUrl}/readyz`);
    expect(health.status).toBe(200);
    expect(existsSync(join(dataDir, 'redis.url'))).toBe(true);
    expect(await first.stop()).toBe(0);
    expect(existsSync(join(dataDir, 'redis.url'))).toBe(false);
    expect(readdirSync(join(dataDir, 'redis'))).toContain('appendonlydir');

    // Same DATA_DIR: the Client is still registered and licensed; no command to replay.
    const second = await startGatewayProcess(zeroConfig);
    const again = new Agent({ url: second.url, clientId: agent.clientId, credential: agent.credential!, os: OS.linux });
    expect((await again.connect()).license).toEqual({ licensed: true, type: LicenseType.LICENSE_TYPE_LINUX, reason: '' });
    expect(again.monitoring).toBe(true);
    expect(again.commands).toEqual([]);
    await again.close();
    expect(await second.stop()).toBe(0);
  });

  it('R3: a wrong setting stops start-up with exit code 2 and a message naming it', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin/licensegate.mjs'), 'serve'], {
      env: { ...process.env, GATEWAY_PORT: 'eighty' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/GATEWAY_PORT/);
  });

  it('R3: unknown commands and flags exit 2 with usage', () => {
    const unknown = spawnSync(process.execPath, [join(root, 'bin/licensegate.mjs'), 'frobnicate'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    const flag = spawnSync(process.execPath, [join(root, 'bin/licensegate.mjs'), 'serve', '--bogus'], { encoding: 'utf8' });
    expect(flag.status).toBe(2);
  });
});
