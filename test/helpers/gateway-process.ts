/** Runs `licensegate serve` as a real child process (multi-process tests). */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const root = join(import.meta.dirname, '../..');

/** Every process started by this file's tests and still running. */
const running = new Set<ChildProcess>();

// A failed assertion skips a test's own stop(): whatever is left is stopped when the file ends,
// with SIGTERM first so that a zero-config gateway also stops the redis-server it owns.
afterAll(async () => {
  await Promise.all(
    [...running].map(async (child) => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }),
  );
});

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  healthUrl: string;
  nodeId: string;
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Sends a signal and returns at once (a drain test's SIGTERM, a second signal, SIGINT). */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

/**
 * `env` overrides the defaults (ports 0, LOG_LEVEL warn, DRAIN_SECONDS 0). TLS (SPEC Z1): spread
 * `tlsEnv(cert, ca?)` from test-certs.ts into `env`; `url` and `healthUrl` then say wss:// and https://.
 */
export async function startGatewayProcess(env: Record<string, string>, timeoutMs = 20_000): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [join(root, 'bin/licensegate.mjs'), 'serve'], {
    cwd: root,
    // DRAIN_SECONDS=0: SIGTERM stops at once (no graceful drain, SPEC X4) unless a test asks for one.
    env: { ...process.env, GATEWAY_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'warn', LOG_FORMAT: 'json', DRAIN_SECONDS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  running.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => running.delete(child));
  const ready = new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // never leave an orphan behind a failed test
      reject(new Error(`gateway process not ready after ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /licensegate ready (\S+) .*health=(\S+)\/healthz node=(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway process exited (${code}) before ready:\n${out}`));
    });
  });
  const m = await ready;
  return {
    child,
    url: m[1]!,
    healthUrl: m[2]!,
    nodeId: m[3]!,
    output: () => out,
    exited,
    signal(sig) {
      if (child.exitCode === null) child.kill(sig);
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
