import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preludeStatements, shakePrelude } from '../../src/store/lua-prelude.ts';
import { loadScripts } from '../../src/store/scripts.ts';

const INCLUDES = join(import.meta.dirname, '../../src/store/lua/includes');

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/g;

describe('Lua prelude: each script carries only the definitions it can reach', () => {
  it('X5: keeps what the body uses and what that uses, in order; drops the rest', () => {
    const prelude = [
      '-- header',
      'local BASE = ARGV[1]',
      "local K_A = BASE .. 'a'",
      "local K_B = BASE .. 'b'",
      'local function helper(x)',
      '  return redis.call("GET", K_A .. x)',
      'end',
      '-- used by nobody',
      'local function unused()',
      '  return K_B',
      'end',
      'local X, Y = 1, 2',
    ].join('\n');
    const out = shakePrelude(prelude, 'return helper(Y)');
    expect(out).toContain('local BASE = ARGV[1]');
    expect(out).toContain("local K_A = BASE .. 'a'");
    expect(out).toContain('local function helper(x)');
    expect(out).toContain('local X, Y = 1, 2');
    expect(out).not.toContain('K_B');
    expect(out).not.toContain('unused');
    expect(out.indexOf('BASE = ARGV')).toBeLessThan(out.indexOf('K_A ='));
    expect(out.indexOf('K_A =')).toBeLessThan(out.indexOf('function helper'));
  });

  it('X5: a top-level statement with an effect of its own is always kept', () => {
    const out = shakePrelude("local RUN = redis.call('INFO')\nlocal function f() return 1 end", 'return 2');
    expect(out).toContain("redis.call('INFO')");
    expect(out).not.toContain('function f');
  });

  it('X5: the includes have no top-level statement with an effect (nothing is dropped that would run)', () => {
    for (const file of readdirSync(INCLUDES)) {
      const statements = preludeStatements(readFileSync(join(INCLUDES, file), 'utf8'));
      const withEffect = statements.filter((s) => s.defines.length > 0 && s.effect);
      expect(withEffect.map((s) => `${file}: ${s.text.split('\n')[0]}`)).toEqual([]);
    }
  });

  it('X5: every real script defines every prelude name it uses (no use left to a missing local)', () => {
    const full = loadScripts()[0]!.lua; // any script: the prelude names are the union of all definitions
    expect(full.length).toBeGreaterThan(0);
    const allPreludeNames = new Set<string>();
    for (const file of readdirSync(INCLUDES)) {
      for (const s of preludeStatements(readFileSync(join(INCLUDES, file), 'utf8'))) s.defines.forEach((d) => allPreludeNames.add(d));
    }
    expect(allPreludeNames.has('assignLicense')).toBe(true);
    for (const script of loadScripts()) {
      const defined = new Set<string>();
      for (const s of preludeStatements(script.lua)) s.defines.forEach((d) => defined.add(d));
      // Names locals of the body itself define are in `defined` too (the body's top level is split alike).
      const used = new Set(script.lua.match(IDENT) ?? []);
      const missing = [...used].filter((u) => allPreludeNames.has(u) && !defined.has(u));
      expect({ script: script.name, missing }).toEqual({ script: script.name, missing: [] });
    }
  });

  it('X5: the Hello script no longer carries the take-back and saga helpers; touch and ack carry almost nothing', () => {
    const byName = new Map(loadScripts().map((s) => [s.name, s.lua]));
    const hello = byName.get('hello')!;
    expect(hello).toContain('local function assignLicense(');
    expect(hello).not.toContain('local function nextTakeBackVictim(');
    expect(hello).not.toContain('local function storeResult(');
    expect(byName.get('touch')!).not.toContain('local function assignLicense(');
    expect(byName.get('ack')!).not.toContain('local function assignLicense(');
  });
});
