/** Agents and raw sockets for gateway tests. */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { Agent, type AgentOptions, type AgentOs } from '../../agent-sim/agent.ts';
import { OsFamily, ProductType, ServerFrame } from '../../src/protocol/wire.ts';
import { TEST_TOKEN } from './gateway.ts';

export const OS = {
  windows: { family: OsFamily.OS_FAMILY_WINDOWS, productType: ProductType.PRODUCT_TYPE_WORKSTATION },
  macos: { family: OsFamily.OS_FAMILY_MACOS },
  windowsServer: { family: OsFamily.OS_FAMILY_WINDOWS, productType: ProductType.PRODUCT_TYPE_SERVER },
  terminalServer: { family: OsFamily.OS_FAMILY_WINDOWS, productType: ProductType.PRODUCT_TYPE_SERVER, multiSession: true },
  cloudServer: { family: OsFamily.OS_FAMILY_WINDOWS, productType: ProductType.PRODUCT_TYPE_SERVER, cloudProvider: 'aws' },
  linux: { family: OsFamily.OS_FAMILY_LINUX },
  unknown: { family: OsFamily.OS_FAMILY_UNSPECIFIED },
} satisfies Record<string, AgentOs>;

export function clientId(label = 'c'): string {
  return `${label}-${randomBytes(5).toString('hex')}`;
}

export function newAgent(url: string, overrides: Partial<AgentOptions> = {}): Agent {
  return new Agent({ url, clientId: clientId(), enrollmentToken: TEST_TOKEN, os: OS.windows, ...overrides });
}

/** An agent that has enrolled once and disconnected: reconnects with its credential. */
export async function enrolledAgent(url: string, overrides: Partial<AgentOptions> = {}): Promise<Agent> {
  const agent = newAgent(url, overrides);
  await agent.connect();
  return agent;
}

export interface RawOutcome {
  errors: { code: string; message: string; retryAfterMs: number }[];
  closeCode: number;
  closeReason: string;
}

/** Opens a bare WebSocket, sends frames in order, and collects Error frames until the close. */
export async function rawExchange(url: string, frames: (Uint8Array | string)[], timeoutMs = 5000): Promise<RawOutcome> {
  const ws = new WebSocket(url);
  const errors: RawOutcome['errors'] = [];
  return new Promise<RawOutcome>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no close within ${timeoutMs} ms; errors so far ${JSON.stringify(errors)}`));
    }, timeoutMs);
    ws.on('open', () => {
      for (const f of frames) ws.send(f, { binary: typeof f !== 'string' });
    });
    ws.on('message', (data: Buffer) => {
      const frame = ServerFrame.decode(data);
      if (frame.error) errors.push({ code: frame.error.code ?? '', message: frame.error.message ?? '', retryAfterMs: frame.error.retryAfterMs ?? 0 });
    });
    ws.on('error', () => {});
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ errors, closeCode: code, closeReason: reason.toString() });
    });
  });
}
