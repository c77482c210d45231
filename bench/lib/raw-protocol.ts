/**
 * The bare-WebSocket baseline's frames (no protobuf, no Redis): the cost floor of "connect and
 * exchange a frame" on this machine. Sizes are close to licensegate's own frames: a Hello of
 * ~120 bytes answered by a ~64-byte Welcome, 2-byte heartbeats.
 *
 *   client → server  [1, index u32 BE, padding…] (120 bytes)  hello: answered by [1, …] (64 bytes)
 *   client → server  [2, 0]                                    heartbeat: answered by [2, 0]
 *   server → client  [3, index u32 BE, f64 BE epoch ms]        push (stop-latency baseline)
 */
export const RAW_HELLO = 1;
export const RAW_HEARTBEAT = 2;
export const RAW_PUSH = 3;

export const HELLO_BYTES = 120;
export const WELCOME_BYTES = 64;

export function rawHello(index: number): Buffer {
  const b = Buffer.alloc(HELLO_BYTES, 0x61);
  b[0] = RAW_HELLO;
  b.writeUInt32BE(index >>> 0, 1);
  return b;
}

export const RAW_WELCOME = (() => {
  const b = Buffer.alloc(WELCOME_BYTES, 0x62);
  b[0] = RAW_HELLO;
  return b;
})();

export const RAW_HEARTBEAT_FRAME = Buffer.from([RAW_HEARTBEAT, 0]);

export function rawPush(index: number, epochMs: number): Buffer {
  const b = Buffer.alloc(13);
  b[0] = RAW_PUSH;
  b.writeUInt32BE(index >>> 0, 1);
  b.writeDoubleBE(epochMs, 5);
  return b;
}

/** Milliseconds since the Unix epoch with sub-millisecond resolution (comparable across processes). */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
