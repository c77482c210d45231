import { afterAll, describe, expect, it } from 'vitest';
import { prunePrelude } from '../../src/store/lua-prune.ts';
import { createRedis } from '../../src/store/redis-connection.ts';
import { loadScripts, SCRIPT_NAMES } from '../../src/store/scripts.ts';
import { redisUrl } from '../helpers/redis.ts';

const PRELUDE = [
  "local BASE = ARGV[1]",
  "local PREFIX = string.sub(BASE, 1, 3)",
  "local function kA(id) return BASE .. 'a:' .. id end",
  "local function kB(id) return PREFIX .. 'b:' .. id end",
  "-- Unused by the body below.",
  "local function unused()",
  "  return kB('x')",
  "end",
  "local CTX = { now = 0 }",
  "local T1, T2 = {}, {}",
  "local function helper(id)",
  "  if id then",
  "    return kA(id)",
  "  end",
  "  return T2",
  "end",
].join('\n');

describe('F6: each script creates only the prelude helpers it reaches', () => {
  it('F6: keeps what the body reaches, transitively and in order, drops the rest', () => {
    const out = prunePrelude(PRELUDE, "return helper(KEYS[1])");
    expect(out).toBe(["local BASE = ARGV[1]", "local function kA(id) return BASE .. 'a:' .. id end", "local T1, T2 = {}, {}", PRELUDE.slice(PRELUDE.indexOf('local function helper'))].join('\n'));
    expect(out).not.toContain('unused');
    expect(out).not.toContain('PREFIX');
  });

  it('F6: a body that reaches nothing gets no prelude; a statement that is not a definition always stays', () => {
    expect(prunePrelude(PRELUDE, 'return 1')).toBe('');
    expect(prunePrelude(`${PRELUDE}\nCTX.now = 5`, 'return 1')).toBe(["local CTX = { now = 0 }", 'CTX.now = 5'].join('\n'));
  });

  it('F6: every shipped script is smaller than the full prelude and still compiles on Redis', async () => {
    const redis = createRedis(redisUrl());
    afterAll(() => redis.disconnect());
    const sizes = loadScripts().map((s) => s.lua.length);
    expect(sizes).toHaveLength(SCRIPT_NAMES.length);
    for (const s of loadScripts()) {
      const sha = (await redis.script('LOAD', s.lua)) as string;
      expect(sha).toMatch(/^[0-9a-f]{40}$/);
    }
    // The heartbeat flush's script reaches almost nothing of the ledger.
    const touch = loadScripts().find((s) => s.name === 'touch')!.lua;
    expect(touch).not.toContain('local function promoteWaiting');
    expect(Math.max(...sizes)).toBeGreaterThan(touch.length);
  });
});
