/**
 * Baseline helper: a bare `ws` server (permessage-deflate off) that answers the raw protocol of
 * bench/lib/raw-protocol.ts, optionally with a no-op BullMQ worker in the same process.
 *
 * Environment: NOOP_QUEUE_REDIS_URL, NOOP_QUEUE_PREFIX, NOOP_QUEUE_NAME, NOOP_CONCURRENCY —
 * when set, a Worker whose processor does nothing but, for a job with `data.i`, push one frame
 * to the client that said hello with index i (the stop-latency baseline: BullMQ
 * enqueue → processed, plus a ws push). Jobs without `i` are plain no-ops (job-throughput
 * baseline).
 */
import type { AddressInfo } from 'node:net';
import { Worker } from 'bullmq';
import { createRedis } from '../../src/store/redis-connection.ts';
import { targetFromEnv } from '../../src/store/redis-target.ts';
import { WebSocketServer, type WebSocket } from 'ws';
import { serveRequests } from '../lib/ipc.ts';
import { epochNow, RAW_HEARTBEAT, RAW_HEARTBEAT_FRAME, RAW_HELLO, RAW_WELCOME, rawPush } from '../lib/raw-protocol.ts';

const sockets = new Map<number, WebSocket>();
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: false, maxPayload: 128 * 1024 });
let connections = 0;
wss.on('connection', (ws) => {
  connections++;
  let index = -1;
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary || data.length === 0) return;
    if (data[0] === RAW_HELLO && data.length >= 5) {
      index = data.readUInt32BE(1);
      sockets.set(index, ws);
      ws.send(RAW_WELCOME, { binary: true });
    } else if (data[0] === RAW_HEARTBEAT) {
      ws.send(RAW_HEARTBEAT_FRAME, { binary: true });
    }
  });
  ws.on('close', () => {
    connections--;
    if (index >= 0 && sockets.get(index) === ws) sockets.delete(index);
  });
  ws.on('error', () => {});
});
await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
const port = (wss.address() as AddressInfo).port;

let worker: Worker | undefined;
let processed = 0;
const target = process.env.NOOP_QUEUE === 'true' ? targetFromEnv(process.env) : undefined;
if (target) {
  const connection = createRedis(target, { connectionName: 'licensegate:bench-noop', maxRetriesPerRequest: null });
  connection.on('error', () => {});
  worker = new Worker(
    process.env.NOOP_QUEUE_NAME ?? 'bench-noop',
    async (job) => {
      processed++;
      const i = (job.data as { i?: number }).i;
      if (typeof i === 'number') sockets.get(i)?.send(rawPush(i, epochNow()), { binary: true });
      return { ok: true };
    },
    { connection, prefix: process.env.NOOP_QUEUE_PREFIX ?? '{bench-noop}', concurrency: Number(process.env.NOOP_CONCURRENCY ?? 16) },
  );
  worker.on('error', () => {});
  await worker.waitUntilReady();
}

const gc = (globalThis as { gc?: () => void }).gc;
serveRequests(
  {
    stats: () => {
      gc?.();
      gc?.();
      return { connections, processed, memory: process.memoryUsage(), gcAvailable: gc !== undefined };
    },
    close: async () => {
      await worker?.close();
      return { processed };
    },
  },
  { port, url: `ws://127.0.0.1:${port}` },
);
