/**
 * What the live fuzz run sends (chaos/scenarios/fuzz.ts): one "session" per WebSocket
 * connection — a short script of frames drawn from a seeded generator, so a run is reproducible
 * from its seed. Kinds: random bytes, mutated valid frames (Hello, heartbeat, ack, uninstall
 * notice), oversized binary frames (above the 64 KiB limit, some above ws's 2x hard limit),
 * text frames, fragmented frames (complete, or left unfinished), bursts beyond the frame rate
 * limit, a Hello with a wrong secret, and a valid Hello (fuzz tenant) followed by garbage.
 */
import { ClientFrame, OsFamily, ProductType, type IClientFrame } from '../../src/protocol/wire.ts';
import { applyMutation, type Mutation } from './fuzz-mutations.ts';

/** mulberry32: small, fast, seedable; quality is ample for choosing fuzz inputs. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** One WebSocket message, or one fragment of one (fin false: more follow). */
export interface FuzzFrame {
  data: Uint8Array | string;
  binary: boolean;
  fin: boolean;
}

export type SessionKind =
  | 'random-bytes'
  | 'mutated-hello'
  | 'mutated-heartbeat'
  | 'mutated-ack'
  | 'oversized'
  | 'text'
  | 'fragmented'
  | 'fragment-unfinished'
  | 'flood'
  | 'wrong-secret'
  | 'hello-then-garbage';

/** Relative weights: mostly cheap one-frame sessions, a few slow ones (unfinished fragments wait for the Hello timeout). */
const WEIGHTS: [SessionKind, number][] = [
  ['random-bytes', 20],
  ['mutated-hello', 25],
  ['mutated-heartbeat', 6],
  ['mutated-ack', 6],
  ['oversized', 3],
  ['text', 5],
  ['fragmented', 5],
  ['fragment-unfinished', 1],
  ['flood', 4],
  ['wrong-secret', 5],
  ['hello-then-garbage', 20],
];
const TOTAL = WEIGHTS.reduce((s, [, w]) => s + w, 0);

/** Who the fuzzer may claim to be: the fuzz tenant (never the good agents' tenant). */
export interface FuzzIdentity {
  tenantId: string;
  token: string;
}

export interface Session {
  kind: SessionKind;
  /** Frames before the valid Hello's Welcome is awaited (hello-then-garbage: just the Hello). */
  frames: FuzzFrame[];
  /** hello-then-garbage: the frames sent after the Welcome. */
  after: FuzzFrame[];
  /** hello-then-garbage: the fuzz client id the Hello uses. */
  clientId?: string;
}

const bin = (data: Uint8Array): FuzzFrame => ({ data, binary: true, fin: true });
const encode = (f: IClientFrame): Uint8Array => ClientFrame.encode(f).finish();

export function randomMutation(rng: Rng): Mutation {
  switch (rng.int(5)) {
    case 0:
      return { kind: 'flip', at: rng.int(1 << 16), bit: rng.int(8) };
    case 1:
      return { kind: 'truncate', keep: rng.int(1 << 16) };
    case 2:
      return { kind: 'extend', tail: rng.bytes(1 + rng.int(32)) };
    case 3:
      return { kind: 'insert', at: rng.int(1 << 16), bytes: rng.bytes(1 + rng.int(8)) };
    default:
      return { kind: 'retag', which: rng.int(64), field: rng.int(4) === 0 ? 1 + rng.int(2 ** 29 - 1) : 1 + rng.int(12), wire: rng.int(8) };
  }
}

function mutate(rng: Rng, bytes: Uint8Array): Uint8Array {
  let out = bytes;
  for (let k = 1 + rng.int(3); k > 0; k--) out = applyMutation(out, randomMutation(rng));
  return out;
}

const OSES = [
  { family: OsFamily.OS_FAMILY_UNSPECIFIED },
  { family: OsFamily.OS_FAMILY_LINUX, version: 'fuzz' },
  { family: OsFamily.OS_FAMILY_WINDOWS, productType: ProductType.PRODUCT_TYPE_WORKSTATION },
  { family: OsFamily.OS_FAMILY_WINDOWS, productType: ProductType.PRODUCT_TYPE_SERVER, cloudProvider: 'aws' },
];

export function helloOf(id: FuzzIdentity, clientId: string, rng: Rng, secret?: { credential: string }): IClientFrame {
  return {
    hello: {
      tenantId: id.tenantId,
      clientId,
      hostname: `fuzz-host-${rng.int(1000)}`,
      os: rng.pick(OSES),
      agentVersion: 'fuzz/1',
      ...(secret ? { clientCredential: secret.credential } : { enrollmentToken: id.token }),
      lastAckedSeq: rng.int(4),
    },
  };
}

/** A frame an agent that is already live might send, before mutation. */
function liveFrame(rng: Rng): IClientFrame {
  const r = rng.int(10);
  if (r < 5) return { heartbeat: {} };
  if (r < 9) return { commandAck: { seq: rng.int(3) === 0 ? 1 + rng.int(2 ** 31) : rng.int(4) } };
  return { uninstallNotice: {} };
}

/** Garbage after a valid Hello: mostly mutated live frames, some random bytes, a few valid heartbeats. */
function garbage(rng: Rng): FuzzFrame {
  const r = rng.int(10);
  if (r < 2) return bin(rng.bytes(rng.int(200)));
  if (r < 3) return bin(encode({ heartbeat: {} }));
  return bin(mutate(rng, encode(liveFrame(rng))));
}

export interface SessionContext {
  rng: Rng;
  identity: FuzzIdentity;
  /** A fuzz client id and, once it enrolled, its credential. */
  pickClient(): { clientId: string; credential?: string };
  /** Bytes beyond which the gateway refuses a frame (MAX_PAYLOAD_BYTES). */
  maxPayloadBytes: number;
}

export function nextSession(c: SessionContext): Session {
  const { rng } = c;
  let r = rng.int(TOTAL);
  let kind: SessionKind = 'random-bytes';
  for (const [k, w] of WEIGHTS) {
    if (r < w) {
      kind = k;
      break;
    }
    r -= w;
  }
  const anyHello = () => {
    const who = c.pickClient();
    return helloOf(c.identity, who.clientId, rng, who.credential ? { credential: who.credential } : undefined);
  };
  switch (kind) {
    case 'random-bytes':
      return { kind, frames: [bin(rng.bytes(rng.int(4) === 0 ? rng.int(4096) : rng.int(64)))], after: [] };
    case 'mutated-hello':
      return { kind, frames: [bin(mutate(rng, encode(anyHello())))], after: [] };
    case 'mutated-heartbeat':
      return { kind, frames: [bin(mutate(rng, encode({ heartbeat: {} })))], after: [] };
    case 'mutated-ack':
      return { kind, frames: [bin(mutate(rng, encode({ commandAck: { seq: 1 + rng.int(1000) } })))], after: [] };
    case 'oversized': {
      // Between the limit and twice it: a coded FRAME_TOO_LARGE. Beyond twice: ws closes with 1009 itself.
      const n = rng.int(3) === 0 ? 2 * c.maxPayloadBytes + 1 + rng.int(4096) : c.maxPayloadBytes + 1 + rng.int(c.maxPayloadBytes - 1);
      return { kind, frames: [bin(rng.bytes(n))], after: [] };
    }
    case 'text':
      return { kind, frames: [{ data: rng.int(2) ? 'hello' : Buffer.from(rng.bytes(rng.int(64))).toString('latin1'), binary: false, fin: true }], after: [] };
    case 'fragmented':
    case 'fragment-unfinished': {
      const whole = rng.int(2) ? encode(anyHello()) : rng.bytes(1 + rng.int(128));
      const cut = 1 + rng.int(Math.max(1, whole.length - 1));
      const first: FuzzFrame = { data: whole.subarray(0, cut), binary: true, fin: false };
      if (kind === 'fragment-unfinished') return { kind, frames: [first], after: [] };
      return { kind, frames: [first, { data: whole.subarray(cut), binary: true, fin: true }], after: [] };
    }
    case 'flood': {
      // A valid Hello, then heartbeats beyond the frame burst (60): RATE_LIMITED.
      const who = c.pickClient();
      const hello = helloOf(c.identity, who.clientId, rng, who.credential ? { credential: who.credential } : undefined);
      return { kind, frames: [bin(encode(hello))], after: Array.from({ length: 80 + rng.int(40) }, () => bin(encode({ heartbeat: {} }))), clientId: who.clientId };
    }
    case 'wrong-secret': {
      const h = anyHello();
      h.hello = { ...h.hello, clientCredential: undefined, enrollmentToken: `wrong-${rng.int(1e9)}` };
      delete h.hello.clientCredential;
      return { kind, frames: [bin(encode(h))], after: [] };
    }
    case 'hello-then-garbage': {
      const who = c.pickClient();
      const hello = helloOf(c.identity, who.clientId, rng, who.credential ? { credential: who.credential } : undefined);
      return { kind, frames: [bin(encode(hello))], after: Array.from({ length: 1 + rng.int(8) }, () => garbage(rng)), clientId: who.clientId };
    }
  }
}
