/**
 * No secret in any log line at any level (SPEC Z2), on a full zero-config run with real
 * processes: `licensegate serve` at LOG_LEVEL=trace with its embedded Redis in a new DATA_DIR,
 * agents enrolling, failing to authenticate and reconnecting, a token rotation and other admin
 * jobs through the `licensegate admin` CLI (no flag: it finds the Redis and its password in
 * DATA_DIR), a restart with ENROLLMENT_TOKEN. Every line of every process's stdout/stderr is
 * scanned for every secret used. The two intended displays are the exceptions, each checked to
 * happen exactly once: the token the first start made (its ready line) and the token a
 * rotation made (the rotate command's output).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent-sim/agent.ts';
import { clearedTargetEnv } from '../../src/store/redis-target.ts';
import { clientId, OS } from '../helpers/agents.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';

const root = join(import.meta.dirname, '../..');
const dataDir = join(mkdtempSync(join(tmpdir(), 'lg-no-secrets-')), 'data');
afterAll(() => rmSync(join(dataDir, '..'), { recursive: true, force: true }));

/** Zero-config: no Redis target, no key prefix override, every secret-bearing variable unset unless given. */
const baseEnv = { ...clearedTargetEnv(), KEY_PREFIX: '', QUEUE_PREFIX: '', LICENSE_POOL: '', VENDOR_PUBLIC_KEYS: '', ENROLLMENT_TOKEN: '', DATA_DIR: dataDir, LOG_LEVEL: 'trace', LOG_FORMAT: 'json' };

interface Run {
  what: string;
  stdout: string;
  stderr: string;
  status: number | null;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin/licensegate.mjs'), 'admin', ...args], { cwd: root, env: { ...process.env, LICENSEGATE_ACTOR: '', ...baseEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ what: `admin ${args.join(' ')}`, stdout, stderr, status });
    });
  });
}

async function refusal(agent: Agent): Promise<string> {
  try {
    await agent.connect();
    return 'OK';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  } finally {
    await agent.close();
  }
}

describe('no secret in any log line', () => {
  it('Z2: a full zero-config run at LOG_LEVEL=trace logs no token, credential or Redis password; the CLI prints none but the token it made', { timeout: 240_000 }, async () => {
    const processes: GatewayProcess[] = [];
    const runs: Run[] = [];
    const credentials: string[] = [];
    const WRONG_TOKEN = 'lgt_wrong-token-that-is-long-enough-000';
    const WRONG_CREDENTIAL = 'wrong-credential-wrong-credential-wrong-cr';
    const ENV_TOKEN = 'lgt_env-enrollment-token-for-the-restart-01';

    // 1. First zero-config start: the default tenant's new token, shown once on the ready line.
    const first = await startGatewayProcess({ ...baseEnv }, 40_000);
    processes.push(first);
    const token0 = /enrollment-token=(\S+)/.exec(first.output())?.[1];
    expect(token0).toMatch(/^lgt_/);
    expect(first.output()).toMatch(/will not be shown again/);
    const redisPassword = readFileSync(join(dataDir, 'redis.secret'), 'utf8').trim();
    expect(redisPassword.length).toBeGreaterThan(30);

    // 2. Agents enroll, one reconnects with its credential, wrong secrets are refused.
    const agents = [0, 1, 2].map(() => new Agent({ url: first.url, clientId: clientId('ns'), enrollmentToken: token0!, os: OS.linux }));
    for (const a of agents) {
      await a.connect();
      credentials.push(a.credential!);
    }
    await agents[0]!.close();
    const again = new Agent({ url: first.url, clientId: agents[0]!.clientId, credential: agents[0]!.credential!, os: OS.linux });
    await again.connect();
    await again.close();
    expect(await refusal(new Agent({ url: first.url, clientId: clientId('ns-bad'), enrollmentToken: WRONG_TOKEN, os: OS.linux }))).toBe('AUTH_FAILED');
    expect(await refusal(new Agent({ url: first.url, clientId: agents[1]!.clientId, credential: WRONG_CREDENTIAL, os: OS.linux }))).toBe('AUTH_FAILED');

    // 3. Admin jobs through the CLI, with no Redis flag or variable: it reads DATA_DIR/redis.secret.
    runs.push(await cli(['tenants', 'list']));
    expect(runs.at(-1)!.status).toBe(0);
    const rotate = await cli(['tenants', 'rotate-token', 'default', '--grace', '10m']);
    runs.push(rotate);
    expect(rotate.status).toBe(0);
    const token1 = /new enrollment token for default: (\S+)/.exec(rotate.stdout)?.[1];
    expect(token1).toMatch(/^lgt_/);
    expect(rotate.stdout).toMatch(/shown only once/);
    runs.push(await cli(['clients', 'list', '--json']));
    expect(runs.at(-1)!.status).toBe(0);
    runs.push(await cli(['clients', 'unassign', agents[2]!.clientId]));
    expect(runs.at(-1)!.status).toBe(0);
    runs.push(await cli(['tenants', 'rotate-token', 'no-such-tenant', '--json']));
    expect(runs.at(-1)!.status).toBe(1);
    runs.push(await cli(['audit', '--json']));
    expect(runs.at(-1)!.status).toBe(0);

    // 4. Both tokens enroll during the grace.
    for (const t of [token0!, token1!]) {
      const a = new Agent({ url: first.url, clientId: clientId('ns-grace'), enrollmentToken: t, os: OS.linux });
      await a.connect();
      credentials.push(a.credential!);
      await a.close();
    }
    for (const a of agents.slice(1)) await a.close();
    expect(await first.stop()).toBe(0);

    // 5. A plain restart prints no token (only its hash is stored); the embedded Redis refuses a client without the password.
    const plain = await startGatewayProcess({ ...baseEnv }, 40_000);
    processes.push(plain);
    expect(plain.output()).not.toMatch(/enrollment-token=/);
    const port = new URL(readFileSync(join(dataDir, 'redis.url'), 'utf8').trim()).port;
    const anonymous = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', port, 'GET', 'x'], { encoding: 'utf8', timeout: 10_000, env: { PATH: process.env.PATH } });
    expect(`${anonymous.stdout}${anonymous.stderr}`).toMatch(/NOAUTH/);
    expect(await plain.stop()).toBe(0);

    // 6. A restart with ENROLLMENT_TOKEN: nothing printed; agents reconnect with credentials, new ones enroll with it.
    const second = await startGatewayProcess({ ...baseEnv, ENROLLMENT_TOKEN: ENV_TOKEN }, 40_000);
    processes.push(second);
    expect(second.output()).not.toMatch(/enrollment-token=/);
    const back = new Agent({ url: second.url, clientId: agents[1]!.clientId, credential: agents[1]!.credential!, os: OS.linux });
    await back.connect();
    await back.close();
    const late = new Agent({ url: second.url, clientId: clientId('ns-env'), enrollmentToken: ENV_TOKEN, os: OS.linux });
    await late.connect();
    credentials.push(late.credential!);
    await late.close();
    expect(await second.stop()).toBe(0);

    // 7. The scan.
    const secrets: Record<string, string> = {
      'first token': token0!,
      'rotated token': token1!,
      ENROLLMENT_TOKEN: ENV_TOKEN,
      'wrong token': WRONG_TOKEN,
      'wrong credential': WRONG_CREDENTIAL,
      'redis password': redisPassword,
      ...Object.fromEntries(credentials.map((c, i) => [`credential ${i}`, c])),
    };
    const leaks: string[] = [];
    const scan = (source: string, text: string, allowed: (line: string) => boolean) => {
      for (const line of text.split('\n')) {
        if (allowed(line)) continue;
        for (const [name, secret] of Object.entries(secrets)) if (line.includes(secret)) leaks.push(`${source}: ${name} in: ${line.slice(0, 300)}`);
      }
    };
    const readyLine = (line: string) => line.startsWith('licensegate ready ') && line.includes(`enrollment-token=${token0}`);
    const firstOut = first.output();
    expect(firstOut.split('\n').filter(readyLine)).toHaveLength(1);
    scan('serve (first start)', firstOut, readyLine);
    scan('serve (plain restart)', plain.output(), () => false);
    scan('serve (restart with ENROLLMENT_TOKEN)', second.output(), () => false);
    const rotateLine = (line: string) => line === `new enrollment token for default: ${token1}`;
    for (const r of runs) {
      scan(`${r.what} stdout`, r.stdout, r === rotate ? rotateLine : () => false);
      scan(`${r.what} stderr`, r.stderr, () => false);
    }
    expect(rotate.stdout.split('\n').filter(rotateLine)).toHaveLength(1);
    expect(leaks).toEqual([]);
    // The scan read real logs at the levels asked for: JSON lines from the gateway, debug ones included.
    const levels = new Set(firstOut.split('\n').flatMap((l) => (l.startsWith('{') ? [JSON.parse(l).level as number] : [])));
    expect(levels.has(20) || levels.has(10)).toBe(true);
    expect(processes).toHaveLength(3);
  });
});
