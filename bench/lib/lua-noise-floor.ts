/**
 * The noise floor of Lua timing on this machine, measured in the same run: a pure-CPU Lua loop
 * calibrated to about `targetMs`, run `count` times on the same redis-server and timed by the
 * same SLOWLOG. It does no Redis work at all, so every call that takes much longer than
 * `targetMs` was waiting for a CPU (other processes on a shared machine), not working. The
 * lua-bounds scenario reports it next to its own longest call.
 */
import type { Redis } from 'ioredis';
import { timeScripts, type ScriptTiming } from './script-timing.ts';

const LOOP = 'local x = 0 for i = 1, tonumber(ARGV[1]) do x = x + i end return x';
const ELAPSED =
  "local a = redis.call('TIME') local x = 0 for i = 1, tonumber(ARGV[1]) do x = x + i end local b = redis.call('TIME') return (b[1] - a[1]) * 1000000 + (b[2] - a[2])";

export async function luaNoiseFloor(redis: Redis, count = 200, targetMs = 5): Promise<ScriptTiming & { targetMs: number }> {
  // Calibrate: the fastest of a few runs of a million iterations.
  let best = Infinity;
  for (let i = 0; i < 5; i++) best = Math.min(best, Number(await redis.eval(ELAPSED, 0, 1_000_000)));
  const iterations = Math.max(1, Math.round((1_000_000 * targetMs * 1000) / Math.max(1, best)));
  const { timing } = await timeScripts(redis, async () => {
    for (let i = 0; i < count; i++) await redis.eval(LOOP, 0, iterations);
  });
  return { ...timing, targetMs };
}
