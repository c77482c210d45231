/** Raw TCP sockets that connect and send nothing (or a partial request): the abuse tests' attacker. */
import { connect, type Socket } from 'node:net';

export interface IdleSockets {
  sockets: Socket[];
  /** How many the server has closed (or reset) so far. */
  closed(): number;
  destroyAll(): void;
}

/** Opens `n` sockets from `localAddress` to `port` on 127.0.0.1; resolves once each connected or failed. */
export async function openIdleSockets(port: number, localAddress: string, n: number): Promise<IdleSockets> {
  let closed = 0;
  const sockets: Socket[] = [];
  await Promise.all(
    Array.from({ length: n }, () => new Promise<void>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, localAddress });
      sockets.push(s);
      s.on('error', () => {});
      s.once('close', () => {
        closed++;
        resolve();
      });
      s.once('connect', () => resolve());
    })),
  );
  return {
    sockets,
    closed: () => closed,
    destroyAll: () => sockets.forEach((s) => s.destroy()),
  };
}

/** Port of a ws:// or http:// URL. */
export function portOf(url: string): number {
  return Number(new URL(url).port);
}
