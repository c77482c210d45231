/**
 * The live fuzz run's judge can fail (chaos/lib/fuzz-connection.ts, SPEC R2): against small
 * WebSocket servers that misbehave on purpose — an Error code outside the catalogue, a close code
 * that is not the Error's, silence — the fuzzer reports problems; against one that answers every
 * frame with a coded Error and its close code, none.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { newTally, runFuzzConnection, type FuzzTally } from '../../chaos/lib/fuzz-connection.ts';
import { Rng } from '../../chaos/lib/fuzz-frames.ts';
import { FuzzClients } from '../../chaos/lib/fuzz-watch.ts';
import { ServerFrame } from '../../src/protocol/wire.ts';

let server: WebSocketServer | undefined;

afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function serve(onMessage: (ws: WebSocket) => void): Promise<string> {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (ws) => {
    ws.on('message', () => onMessage(ws));
    ws.on('error', () => {});
  });
  await new Promise<void>((r) => server!.once('listening', () => r()));
  const { port } = server.address() as { port: number };
  return `ws://127.0.0.1:${port}`;
}

function errorFrame(code: string): Uint8Array {
  return ServerFrame.encode({ error: { code, message: 'test' } }).finish();
}

async function fuzz(url: string, frames = 30): Promise<FuzzTally> {
  const tally = newTally();
  const rng = new Rng(12345);
  const clients = new FuzzClients(5);
  await Promise.all(
    Array.from({ length: 4 }, () =>
      runFuzzConnection({
        url,
        localAddress: '127.0.0.1',
        target: frames,
        tally,
        context: { rng, identity: { tenantId: 'fuzz', token: 't' }, pickClient: () => clients.pick(rng), maxPayloadBytes: 1024 },
        onCredential: () => {},
        onRetired: () => {},
        answerMs: 300,
        unfinishedMs: 300,
        stopped: () => false,
      }),
    ),
  );
  return tally;
}

describe('live fuzz judge', () => {
  it('R2: a well-behaved server (coded Error, then its close code) gives no problems', async () => {
    const url = await serve((ws) => {
      ws.send(errorFrame('MALFORMED_FRAME'));
      ws.close(1007);
    });
    const t = await fuzz(url);
    expect(t.framesSent).toBeGreaterThanOrEqual(30);
    expect(t.problems).toEqual([]);
    expect(t.replies['error:MALFORMED_FRAME']).toBeGreaterThan(0);
  });

  it('R2: an Error code outside the catalogue is a problem', async () => {
    const url = await serve((ws) => {
      ws.send(errorFrame('NOT_A_CODE'));
      ws.close(1008);
    });
    const t = await fuzz(url);
    expect(t.problems.some((p) => p.includes('outside the catalogue'))).toBe(true);
  });

  it("R2: a close code other than the Error's is a problem", async () => {
    const url = await serve((ws) => {
      ws.send(errorFrame('MALFORMED_FRAME'));
      ws.close(4000);
    });
    const t = await fuzz(url);
    expect(t.problems.some((p) => p.includes('then close 4000'))).toBe(true);
  });

  it('R2: a bad frame left unanswered is a problem', async () => {
    const url = await serve(() => {});
    const t = await fuzz(url, 10);
    expect(t.problems.some((p) => p.includes('no answer'))).toBe(true);
  });
});
