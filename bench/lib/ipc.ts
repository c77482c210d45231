/**
 * Helper processes of the bench (driver, bare ws server, workers) are forked TypeScript
 * modules speaking a tiny request/response protocol over Node's IPC channel. A helper exits by
 * itself when the bench goes away (IPC disconnect), so it can never outlive a run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './gateway.ts';
import { inspectorUrlIn } from './inspector.ts';
import type { Scope } from './scope.ts';

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface Helper<Ready = unknown> {
  child: ChildProcess;
  pid: number;
  /** What the helper sent with its ready message. */
  ready: Ready;
  /** Sends a request and resolves with the helper's result; rejects on error, exit or timeout. */
  call<T = unknown>(op: string, params?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Everything the helper wrote to stderr/stdout (bounded). */
  output(): string;
  /** ws:// URL of its inspector when started with `inspect`. */
  inspectorUrl: string | undefined;
}

const OUTPUT_LIMIT = 64 * 1024;

/** Forks `bench/procs/<name>.ts` (through tsx) and waits for its ready message. */
export async function startHelper<Ready = unknown>(
  scope: Scope,
  name: string,
  options: { env?: Record<string, string>; execArgv?: string[]; label?: string; readyTimeoutMs?: number; inspect?: boolean } = {},
): Promise<Helper<Ready>> {
  scope.check();
  const label = options.label ?? name;
  const child = fork(join(ROOT, 'bench/procs', `${name}.ts`), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx', ...(options.inspect ? ['--inspect=127.0.0.1:0'] : []), ...(options.execArgv ?? [])],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  scope.child(label, child, 10_000);
  let out = '';
  const append = (b: Buffer) => {
    if (out.length < OUTPUT_LIMIT) out += b.toString();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);

  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let exited = false;
  child.on('message', (msg: Reply | { type: 'ready' }) => {
    if ('type' in msg) return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`${label}: ${msg.error}`));
  });
  child.once('exit', (code, signal) => {
    exited = true;
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`${label} exited (${code ?? signal}) during a request:\n${out.slice(-3000)}`));
    }
    pending.clear();
  });

  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${label}: not ready after ${readyTimeoutMs} ms:\n${out.slice(-3000)}`));
    }, readyTimeoutMs);
    const onMessage = (msg: { type?: string; info?: Ready }) => {
      if (msg.type !== 'ready') return;
      cleanup();
      resolve(msg.info as Ready);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${label}: exited (${code}) before ready:\n${out.slice(-3000)}`));
    };
    function cleanup() {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });

  return {
    child,
    pid: child.pid!,
    ready,
    output: () => out,
    get inspectorUrl() {
      return inspectorUrlIn(out);
    },
    call<T>(op: string, params: Record<string, unknown> = {}, timeoutMs = 600_000): Promise<T> {
      if (exited) return Promise.reject(new Error(`${label} has exited:\n${out.slice(-3000)}`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${label}: ${op} got no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        child.send({ id, op, ...params });
      });
    },
  };
}

/** Helper side: answers requests with `handlers[op](params)`; exits when the bench goes away. */
export function serveRequests(handlers: Record<string, (params: Record<string, unknown>) => Promise<unknown> | unknown>, readyInfo: unknown): void {
  if (!process.send) throw new Error('this module runs as a bench helper process (forked with IPC)');
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: { id: number; op: string } & Record<string, unknown>) => {
    const handler = handlers[msg.op];
    void Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown request ${msg.op}`);
        return handler(msg);
      })
      .then(
        (result) => process.send?.({ id: msg.id, ok: true, result }),
        (err: unknown) => process.send?.({ id: msg.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  process.send({ type: 'ready', info: readyInfo });
}
