/**
 * Runs `node bin/licensegate.mjs serve` as a child process of the bench (the measured gateway,
 * alone in its process) and waits for its ready line
 * `licensegate ready ws://… tenant=… enrollment-token=… health=…/healthz node=…`.
 * With `inspect`, the gateway runs with `--inspect=127.0.0.1:0` (heap readings and CPU profiles
 * through the inspector, see inspector.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { inspectorUrlIn } from './inspector.ts';
import type { Scope } from './scope.ts';
import { exitOf, stopChild } from './scope.ts';

export const ROOT = join(import.meta.dirname, '../..');

export interface GatewayLaunch {
  /** Environment on top of the bench's own (REDIS_URL, KEY_PREFIX, …; DRAIN_SECONDS defaults to 0). */
  env: Record<string, string>;
  /** Label for errors and cleanups. */
  label?: string;
  /** Start the inspector on a free loopback port (heap readings, CPU profiles). */
  inspect?: boolean;
  readyTimeoutMs?: number;
}

export interface GatewayHandle {
  child: ChildProcess;
  pid: number;
  url: string;
  healthUrl: string;
  nodeId: string;
  /** ws:// URL of the inspector when `inspect` was asked for. */
  inspectorUrl: string | undefined;
  /** Everything the process printed (bounded). */
  output(): string;
  /** SIGTERM and wait (a graceful shutdown, 1001 to every agent); SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<number | null>;
}

const OUTPUT_LIMIT = 64 * 1024;

export async function startGateway(scope: Scope, launch: GatewayLaunch): Promise<GatewayHandle> {
  scope.check();
  const nodeArgs: string[] = [];
  if (launch.inspect) nodeArgs.push('--inspect=127.0.0.1:0');
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin/licensegate.mjs'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      HTTP_PORT: '0',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      // SIGTERM stops at once (the reconnect storm's restart, every teardown) unless a scenario
      // asks for the graceful drain (SPEC X4) with its own DRAIN_SECONDS.
      DRAIN_SECONDS: '0',
      ...launch.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const label = launch.label ?? 'gateway';
  scope.child(label, child, 15_000);
  let out = '';
  const append = (b: Buffer) => {
    if (out.length < OUTPUT_LIMIT) out += b.toString();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exitCode = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timeoutMs = launch.readyTimeoutMs ?? 30_000;

  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${label}: not ready after ${timeoutMs} ms:\n${out.slice(-4000)}`));
    }, timeoutMs);
    const onData = () => {
      const m = /licensegate ready (\S+) .*health=(\S+)\/healthz node=(\S+)/.exec(out);
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(new Error(`${label}: exited (${code ?? signal}) before ready:\n${out.slice(-4000)}`));
    };
    function cleanup() {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
    }
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
  return {
    child,
    pid: child.pid!,
    url: ready[1]!,
    healthUrl: ready[2]!,
    nodeId: ready[3]!,
    get inspectorUrl() {
      return inspectorUrlIn(out);
    },
    output: () => out,
    async stop(graceMs = 15_000) {
      await stopChild(child, graceMs);
      await exitOf(child);
      return exitCode;
    },
  };
}
