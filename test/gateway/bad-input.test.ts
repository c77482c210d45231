import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent-sim/agent.ts';
import { ClientFrame, OsFamily, type IClientFrame } from '../../src/protocol/wire.ts';
import { clientId, newAgent, rawExchange } from '../helpers/agents.ts';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.ts';

const MAX = 1024;
let gw: TestGateway;
let bystander: Agent;

beforeAll(async () => {
  gw = await startTestGateway({ pool: { workstation: 20 }, gateway: { maxPayloadBytes: MAX, framesPerSecond: 10, frameBurst: 20 } });
  bystander = newAgent(gw.url);
  await bystander.connect();
});
afterAll(async () => {
  // R2: nothing above touched the bystander, and the process still serves new agents.
  expect(bystander.connected).toBe(true);
  let acked = false;
  bystander.once('heartbeat-ack', () => (acked = true));
  bystander.sendHeartbeat();
  await bystander.waitFor(() => acked);
  const late = newAgent(gw.url);
  expect((await late.connect()).license.licensed).toBe(true);
  await Promise.all([late.close(), bystander.close()]);
  await gw.stop();
});

const frame = (f: IClientFrame) => ClientFrame.encode(f).finish();
const hello = (over: Record<string, unknown> = {}) =>
  frame({ hello: { tenantId: 'default', clientId: clientId('raw'), os: { family: OsFamily.OS_FAMILY_LINUX }, enrollmentToken: TEST_TOKEN, ...over } });

async function expectRefusal(frames: (Uint8Array | string)[], code: string, closeCode: number) {
  const outcome = await rawExchange(gw.url, frames);
  expect(outcome.errors.map((e) => e.code)).toEqual([code]);
  expect(outcome.closeCode).toBe(closeCode);
  expect(outcome.closeReason).toBe(code);
}

describe('bad input gets a coded error and a close, and harms nothing else', () => {
  it('R2: a text frame is TEXT_FRAME (1003)', () => expectRefusal(['{"hello":{}}'], 'TEXT_FRAME', 1003));
  it('R2: malformed protobuf is MALFORMED_FRAME (1007)', () => expectRefusal([Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])], 'MALFORMED_FRAME', 1007));
  it('R2: an empty oneof is EMPTY_FRAME (1007)', () => expectRefusal([new Uint8Array(0)], 'EMPTY_FRAME', 1007));
  it('R2: an unknown enum value is UNKNOWN_ENUM_VALUE (1007)', () => expectRefusal([hello({ os: { family: 77 } })], 'UNKNOWN_ENUM_VALUE', 1007));
  it('R2: a frame above MAX_FRAME_BYTES is FRAME_TOO_LARGE (1009)', () => expectRefusal([new Uint8Array(MAX + 100)], 'FRAME_TOO_LARGE', 1009));

  it('R2: a frame beyond twice the limit is cut off by the WebSocket layer with 1009', async () => {
    const outcome = await rawExchange(gw.url, [new Uint8Array(MAX * 3)]);
    expect(outcome.closeCode).toBe(1009);
  });

  it('C1 R2: anything before Hello is HELLO_REQUIRED (1008)', () => expectRefusal([frame({ heartbeat: {} })], 'HELLO_REQUIRED', 1008));
  it('C1 R2: an ack before Hello is HELLO_REQUIRED', () => expectRefusal([frame({ commandAck: { seq: 1 } })], 'HELLO_REQUIRED', 1008));
  it('C1 R2: a second Hello is HELLO_REPEATED', () => expectRefusal([hello(), hello()], 'HELLO_REPEATED', 1008));
  it('C2 R2: a Hello with an invalid client id is INVALID_HELLO', () => expectRefusal([hello({ clientId: 'has space' })], 'INVALID_HELLO', 1008));

  it('R2: a flood of frames is RATE_LIMITED (1008)', async () => {
    const flood = [hello(), ...Array.from({ length: 100 }, () => frame({ heartbeat: {} }))];
    await expectRefusal(flood, 'RATE_LIMITED', 1008);
  });

  it('C7 R2: acknowledging a command that was never sent is INVALID_ACK', async () => {
    const agent = newAgent(gw.url);
    await agent.connect();
    agent.sendHeartbeat(); // a frame after the Welcome confirms the credential
    await expect.poll(() => gw.redis.hget(gw.keys.client('default', agent.clientId), 'confirmed')).toBe('1');
    agent.sendRaw(frame({ commandAck: { seq: 99 } }));
    await agent.waitFor(() => agent.lastClose !== null);
    expect(agent.lastError?.code).toBe('INVALID_ACK');
    expect(await gw.redis.hget(gw.keys.client('default', agent.clientId), 'acked')).toBe('0');
  });

  it('R2: garbage after a good Hello closes only that connection and loses no state', async () => {
    const agent = newAgent(gw.url);
    await agent.connect();
    agent.sendHeartbeat(); // a frame after the Welcome confirms the credential
    await expect.poll(() => gw.redis.hget(gw.keys.client('default', agent.clientId), 'confirmed')).toBe('1');
    agent.sendRaw(Uint8Array.from([0xff, 0xff, 0xff]));
    await agent.waitFor(() => agent.lastClose !== null);
    expect(agent.lastError?.code).toBe('MALFORMED_FRAME');
    expect(await gw.redis.sismember(gw.keys.holders('default', 'workstation'), agent.clientId)).toBe(1);
    // It comes back with its credential and keeps its license.
    expect((await agent.connect()).license.licensed).toBe(true);
    await agent.close();
  });
});
