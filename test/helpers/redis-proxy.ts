/**
 * A TCP proxy between a process and Redis that injects link faults deterministically:
 * - cutOnReply(pattern): the next reply bytes from Redis that contain `pattern` are dropped and
 *   that connection is cut (the command ran; its reply is lost), once;
 * - setLatency(ms, name): replies to connections whose CLIENT SETNAME contains `name` arrive
 *   `ms` late, in order (a slow link for one connection of a process, not the others).
 * Loopback only; close() ends every connection.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

interface Link {
  client: Socket;
  upstream: Socket;
  /** Client name from CLIENT SETNAME, once seen. */
  name: string;
  sentHead: string;
  tail: Buffer;
  queue: { chunk: Buffer; due: number }[];
  timer: NodeJS.Timeout | undefined;
}

export interface RedisProxy {
  url: string;
  /** Cuts the first connection whose reply contains pattern; resolves when it happened. */
  cutOnReply(pattern: string): Promise<void>;
  setLatency(ms: number, nameContains: string): void;
  close(): Promise<void>;
}

export async function startRedisProxy(targetUrl: string): Promise<RedisProxy> {
  const target = new URL(targetUrl);
  const links = new Set<Link>();
  let cut: { pattern: Buffer; done: () => void } | undefined;
  let latency = { ms: 0, name: '' };

  const flush = (link: Link) => {
    link.timer = undefined;
    const now = Date.now();
    while (link.queue.length > 0 && link.queue[0]!.due <= now) link.client.write(link.queue.shift()!.chunk);
    if (link.queue.length > 0) link.timer = setTimeout(() => flush(link), link.queue[0]!.due - now);
  };
  const end = (link: Link) => {
    if (!links.delete(link)) return;
    clearTimeout(link.timer);
    link.client.destroy();
    link.upstream.destroy();
  };

  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    const link: Link = { client, upstream, name: '', sentHead: '', tail: Buffer.alloc(0), queue: [], timer: undefined };
    links.add(link);
    client.on('data', (chunk: Buffer) => {
      if (!link.name && link.sentHead.length < 4096) {
        link.sentHead += chunk.toString('latin1');
        const m = /SETNAME\r\n\$\d+\r\n([^\r]*)\r\n/i.exec(link.sentHead);
        if (m) link.name = m[1]!;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cut) {
        const seen = Buffer.concat([link.tail, chunk]);
        if (seen.includes(cut.pattern)) {
          const done = cut.done;
          cut = undefined;
          end(link);
          done();
          return;
        }
        link.tail = seen.subarray(Math.max(0, seen.length - cut.pattern.length));
      }
      if (latency.ms > 0 && link.name.includes(latency.name)) {
        link.queue.push({ chunk, due: Date.now() + latency.ms });
        if (!link.timer) link.timer = setTimeout(() => flush(link), latency.ms);
      } else if (link.queue.length > 0) {
        link.queue.push({ chunk, due: 0 }); // keep order behind what is still delayed
      } else {
        client.write(chunk);
      }
    });
    for (const s of [client, upstream]) {
      s.on('error', () => end(link));
      s.on('close', () => end(link));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    cutOnReply(pattern) {
      return new Promise<void>((resolve) => {
        cut = { pattern: Buffer.from(pattern, 'latin1'), done: resolve };
      });
    },
    setLatency(ms, nameContains) {
      latency = { ms, name: nameContains };
    },
    async close() {
      for (const link of [...links]) end(link);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
