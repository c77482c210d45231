/**
 * Terminal escape injection through an agent's Hello (SPEC Z5, R2): a hostile agent's hostname
 * and agent version reach `licensegate admin clients list` — a real CLI process — as visible
 * escapes, never as the control sequences a terminal would obey. --json keeps the exact value.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliDeployments, runAdminCli } from '../helpers/admin-cli.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { connectRedis } from '../helpers/redis.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';

const deployments = new CliDeployments();
const dataDir = mkdtempSync(join(tmpdir(), 'lg-safe-text-'));
/** Any C0 control but the line feed, DEL, C1 controls, bidi controls. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

let redis: RedisClient;
let gw: TestGateway;
beforeAll(async () => {
  redis = await connectRedis();
  const keys = await deployments.fresh(redis, 'esc');
  gw = await startTestGateway({ keys });
  await activatePool(ledgerContext(redis, keys), { linux: 2 });
});
afterAll(async () => {
  await gw?.stop();
  await deployments.stop();
  redis?.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('agent strings in CLI output', () => {
  it('Z5 R2: a hostname with \\x1b[2J and \\x1b]0;title\\x07 shows escaped in `admin clients list`, exact in --json', async () => {
    const hostname = 'pwn\x1b[2J\x1b]0;title\x07\r\u202eexe.txt';
    const agent = newAgent(gw.url, { os: OS.linux, hostname });
    await agent.connect();
    await agent.close();

    const table = await runAdminCli(gw.keys, ['clients', 'list'], { dataDir });
    expect(table.stderr).toBe('');
    expect(table.status).toBe(0);
    expect(RAW_CONTROL.test(table.stdout)).toBe(false);
    expect(table.stdout).not.toContain('\x1b');
    expect(table.stdout).toContain('pwn\\x1b[2J\\x1b]0;title\\x07\\x0d\\u202eexe.txt');
    const row = table.stdout.split('\n').find((l) => l.startsWith(agent.clientId));
    expect(row).toBeDefined();

    const json = await runAdminCli(gw.keys, ['clients', 'list', '--json'], { dataDir });
    expect(json.status).toBe(0);
    const rows = JSON.parse(json.stdout) as { clientId: string; hostname: string }[];
    expect(rows.find((r) => r.clientId === agent.clientId)?.hostname).toBe(hostname);
  });
});
