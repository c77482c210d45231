/** Runs `licensegate admin …` as a real process against the project's Redis, with a worker per deployment. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { startTestAdmin, type TestAdmin } from './admin.ts';
import { ledgerContext, vendor } from './ledger.ts';
import { newKeys, redisEnv } from './redis.ts';

const root = join(import.meta.dirname, '../..');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  dataDir: string;
  /** Entries override the test Redis settings. */
  env?: Record<string, string>;
  input?: string;
}

export function runAdminCli(keys: Keys, args: string[], opts: CliOptions): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LICENSEGATE_ACTOR: '',
    ...redisEnv(),
    KEY_PREFIX: keys.prefix,
    QUEUE_PREFIX: keys.queuePrefix,
    VENDOR_PUBLIC_KEYS: vendor.publicKeyPem,
    DATA_DIR: opts.dataDir,
    ...opts.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin/licensegate.mjs'), 'admin', ...args], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // Longer than the CLI's own 30 s job wait, so that a stuck job shows as its JOB_TIMEOUT.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** A fresh deployment (key prefix, default tenant) with an admin worker; stop the workers after. */
export class CliDeployments {
  private readonly workers: TestAdmin[] = [];

  async fresh(redis: RedisClient, label: string): Promise<Keys> {
    const keys = newKeys(label);
    await ensureTenant(redis, keys, DEFAULT_TENANT);
    // The CLI's changes run as admin jobs: a worker for this deployment runs in the test process.
    this.workers.push(await startTestAdmin(ledgerContext(redis, keys)));
    return keys;
  }

  async stop(): Promise<void> {
    for (const w of this.workers) await w.stop();
  }
}
