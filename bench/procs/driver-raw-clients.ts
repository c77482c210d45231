/**
 * The driver's bare WebSocket clients: the baseline fleet that talks the minimal raw protocol
 * (bench/lib/raw-protocol.ts) to bench/procs/ws-server.ts, connected as the same closed loop as
 * the agents, so the gateway's cost can be read against a server that does nothing.
 */
import WebSocket from 'ws';
import { Histogram } from '../../agent-sim/histogram.ts';
import { closedLoop, MAX_ATTEMPTS, sleep, sourceIp, tally } from '../lib/driver-loops.ts';
import { RAW_HEARTBEAT_FRAME, RAW_HELLO, RAW_PUSH, rawHello } from '../lib/raw-protocol.ts';

interface RawClient {
  ws: WebSocket;
  timer: NodeJS.Timeout | null;
}

let raws: RawClient[] = [];
/** Called with (index, workerEpochMs) when a push arrives. */
let pushHook: ((i: number, workerEpoch: number) => void) | null = null;

export function setPushHook(hook: ((i: number, workerEpoch: number) => void) | null): void {
  pushHook = hook;
}

function openRaw(url: string, index: number, localAddress: string | undefined, heartbeatMs: number, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress });
    const client: RawClient = { ws, timer: null };
    raws[index] = client;
    let welcomed = false;
    const deadline = setTimeout(() => {
      ws.terminate();
      reject(new Error('HANDSHAKE_TIMEOUT'));
    }, timeoutMs);
    ws.on('open', () => ws.send(rawHello(index), { binary: true }));
    ws.on('message', (data: Buffer) => {
      const type = data[0];
      if (type === RAW_HELLO && !welcomed) {
        welcomed = true;
        clearTimeout(deadline);
        if (heartbeatMs > 0) {
          client.timer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(RAW_HEARTBEAT_FRAME, { binary: true }), heartbeatMs);
          client.timer.unref();
        }
        resolve();
      } else if (type === RAW_PUSH) {
        pushHook?.(data.readUInt32BE(1), data.readDoubleBE(5));
      }
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      if (client.timer) clearInterval(client.timer);
      client.timer = null;
      if (!welcomed) {
        clearTimeout(deadline);
        reject(new Error('CONNECTION_CLOSED'));
      }
    });
  });
}

export interface RawConnectParams {
  url: string;
  count: number;
  concurrency: number;
  timeoutMs: number;
  sourceIps: string[];
  heartbeatMs: number;
}

export async function rawConnect(p: RawConnectParams) {
  raws = new Array<RawClient>(p.count);
  const t0 = performance.now();
  const deadline = t0 + p.timeoutMs;
  const latency = new Histogram();
  const failures: Record<string, number> = {};
  let ok = 0;
  let lastDone = t0;
  await closedLoop(p.count, p.concurrency, deadline, async (i) => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const start = performance.now();
      try {
        await openRaw(p.url, i, sourceIp(p.sourceIps, i), p.heartbeatMs, Math.max(1, Math.min(30_000, deadline - start)));
        latency.record(performance.now() - start);
        ok++;
        lastDone = performance.now();
        return;
      } catch (err) {
        tally(failures, (err as Error).message);
        if (performance.now() >= deadline) return;
        await sleep(50 * 2 ** attempt);
      }
    }
  });
  const elapsedMs = lastDone - t0;
  return {
    count: p.count,
    connected: ok,
    elapsedMs: Math.round(elapsedMs),
    ratePerSec: elapsedMs > 0 ? Math.round((ok / elapsedMs) * 1000 * 10) / 10 : 0,
    roundTrip: latency.summary(),
    failuresByCode: failures,
    timedOut: performance.now() >= deadline,
  };
}

export async function closeRaws(timeoutMs: number) {
  const list = raws.filter(Boolean);
  const closed = Promise.all(
    list.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.timer) clearInterval(c.timer);
          if (c.ws.readyState === WebSocket.CLOSED) return resolve();
          c.ws.once('close', () => resolve());
          c.ws.close(1000);
        }),
    ),
  );
  await Promise.race([closed, sleep(timeoutMs)]);
  for (const c of list) if (c.ws.readyState !== WebSocket.CLOSED) c.ws.terminate();
  raws = [];
  return { closed: list.length };
}
