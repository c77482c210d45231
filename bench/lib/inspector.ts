/**
 * Readings from inside the gateway (and the worker) without touching their code: the process
 * runs with `--inspect=127.0.0.1:0` and the bench speaks the Chrome DevTools Protocol to it over
 * the inspector's WebSocket — a full GC then `process.memoryUsage()` for heap figures, and the
 * V8 CPU profiler (the one `node --cpu-prof` uses) started and stopped around a measured window.
 */
import WebSocket from 'ws';

export interface MemoryUsage {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** The inspector URL a process printed on stderr (`Debugger listening on ws://…`). */
export function inspectorUrlIn(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
}

export class InspectorSession {
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
    ws.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('inspector connection closed'));
      this.pending.clear();
    });
    ws.on('error', () => {});
  }

  static async open(url: string, timeoutMs = 10_000): Promise<InspectorSession> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`inspector ${url} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return new InspectorSession(ws);
  }

  call<T = unknown>(method: string, params: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`inspector: ${method} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Starts the V8 CPU profiler (sampling every `intervalUs` microseconds). */
  async startProfiler(intervalUs = 500): Promise<void> {
    await this.call('Profiler.enable');
    await this.call('Profiler.setSamplingInterval', { interval: intervalUs });
    await this.call('Profiler.start');
  }

  /** Stops it and returns the profile (the .cpuprofile format). */
  async stopProfiler(): Promise<unknown> {
    const { profile } = await this.call<{ profile: unknown }>('Profiler.stop');
    await this.call('Profiler.disable').catch(() => {});
    return profile;
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Collects garbage in the inspected process, then returns its process.memoryUsage(). */
export async function inspectMemory(inspectorUrl: string): Promise<MemoryUsage> {
  const s = await InspectorSession.open(inspectorUrl);
  try {
    await s.call('HeapProfiler.collectGarbage');
    await s.call('HeapProfiler.collectGarbage');
    const result = await s.call<{ result: { value?: string }; exceptionDetails?: unknown }>('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    });
    if (result.exceptionDetails || typeof result.result.value !== 'string') throw new Error('process.memoryUsage() failed in the inspected process');
    return JSON.parse(result.result.value) as MemoryUsage;
  } finally {
    s.close();
  }
}

/** Evaluates an expression in the inspected process; resolves with its (JSON-safe) value. */
export async function evaluate<T>(inspectorUrl: string, expression: string): Promise<T> {
  const s = await InspectorSession.open(inspectorUrl);
  try {
    const r = await s.call<{ result: { value?: unknown }; exceptionDetails?: { text?: string; exception?: { description?: string } } }>('Runtime.evaluate', {
      expression,
      returnByValue: true,
    });
    if (r.exceptionDetails) throw new Error(`evaluate failed: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text ?? 'exception'}`);
    return r.result.value as T;
  } finally {
    s.close();
  }
}

export interface LoopDelay {
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * Event-loop delay of the inspected process over a window (perf_hooks.monitorEventLoopDelay,
 * installed from outside through the inspector): how long callbacks — a frame to an agent, a
 * Redis reply — waited behind other work. Milliseconds; null where it could not be read.
 */
export class LoopDelayWindow {
  private constructor(private readonly urls: Record<string, string | undefined>) {}

  static async start(urls: Record<string, string | undefined>): Promise<LoopDelayWindow> {
    const expr = `(() => { const { monitorEventLoopDelay } = process.getBuiltinModule('node:perf_hooks');
      globalThis.__benchLoopDelay?.disable();
      const h = monitorEventLoopDelay({ resolution: 1 }); h.enable(); globalThis.__benchLoopDelay = h; return true; })()`;
    for (const url of Object.values(urls)) if (url) await evaluate(url, expr).catch(() => {});
    return new LoopDelayWindow(urls);
  }

  async stop(): Promise<Record<string, LoopDelay | null>> {
    const expr = `(() => { const h = globalThis.__benchLoopDelay; if (!h) return null; h.disable(); globalThis.__benchLoopDelay = undefined;
      const ms = (ns) => Math.round(ns / 1e4) / 100;
      return { mean: ms(h.mean), p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) }; })()`;
    const out: Record<string, LoopDelay | null> = {};
    for (const [name, url] of Object.entries(this.urls)) out[name] = url ? await evaluate<LoopDelay | null>(url, expr).catch(() => null) : null;
    return out;
  }
}
