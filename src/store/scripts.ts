/**
 * Loads the Lua scripts in ./lua (one per file, named `<name>-<numberOfKeys>.lua`, as BullMQ
 * does), prefixes each with the generated key builders and the shared includes, and registers
 * them once per connection with ioredis `defineCommand` (EVALSHA with EVAL fallback).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './redis-connection.ts';
import { ALL_LICENSE_TYPES } from '../licensing/license-types.ts';
import { luaKeyPrelude } from './keys.ts';
import { shakePrelude } from './lua-prelude.ts';

const LUA_DIR = join(dirname(fileURLToPath(import.meta.url)), 'lua');
/** Shared helpers, in dependency order, prepended to every script. */
const INCLUDES = ['context.lua', 'commands.lua', 'ledger.lua', 'op-results.lua', 'presence.lua'];

export const SCRIPT_NAMES = [
  'hello', 'disconnect', 'touch', 'ack', 'uninstall',
  'activateKey', 'keyStatus', 'withdrawKey', 'grantOut', 'grantIn', 'takeBackOut', 'takeBackIn',
  'createUser', 'seat', 'adminAssign', 'adminUnassign', 'setPolicy',
  'repairSeq',
  'nodeBeat', 'nodeForget', 'reregister',
  'promote',
  'purgeUninstalled', 'releaseClientIds',
  'setLimits',
  'rotateToken',
  'clientIndex',
  'createAccount', 'changeAccount',
  'renameTenant', 'deleteTenant',
  'grantReturn',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

interface ScriptSource {
  name: ScriptName;
  numberOfKeys: number;
  lua: string;
}

function camel(fileStem: string): string {
  return fileStem.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

let cached: ScriptSource[] | undefined;

/** Every script's full source (the prelude and includes it uses + body). */
export function loadScripts(): ScriptSource[] {
  if (cached) return cached;
  const types = `local ALL_TYPES = {${ALL_LICENSE_TYPES.map((t) => JSON.stringify(t)).join(', ')}}`;
  const prelude = [luaKeyPrelude(), types, ...INCLUDES.map((f) => readFileSync(join(LUA_DIR, 'includes', f), 'utf8'))].join('\n');
  const sources: ScriptSource[] = [];
  for (const file of readdirSync(LUA_DIR)) {
    const m = /^([a-z-]+)-(\d+)\.lua$/.exec(file);
    if (!m) continue;
    const name = camel(m[1]!) as ScriptName;
    if (!(SCRIPT_NAMES as readonly string[]).includes(name)) throw new Error(`unregistered Lua script ${file}`);
    const body = readFileSync(join(LUA_DIR, file), 'utf8');
    // Only the prelude definitions this script can reach: Redis runs the whole text per call (lua-prelude.ts).
    sources.push({ name, numberOfKeys: Number(m[2]), lua: `${shakePrelude(prelude, body)}\n${body}` });
  }
  for (const name of SCRIPT_NAMES) {
    if (!sources.some((s) => s.name === name)) throw new Error(`missing Lua script for ${name}`);
  }
  cached = sources;
  return sources;
}

const defined = new WeakSet<RedisClient>();

/** Registers every script on a connection, a single Redis or a Cluster (idempotent). */
export function defineScripts(redis: RedisClient): void {
  if (defined.has(redis)) return;
  for (const s of loadScripts()) {
    redis.defineCommand(`lg_${s.name}`, { numberOfKeys: s.numberOfKeys, lua: s.lua });
  }
  defined.add(redis);
}

type ScriptArg = string | number;

/** Runs a script on a connection (after defineScripts). */
export function runScript(redis: RedisClient, name: ScriptName, keys: string[], args: ScriptArg[]): Promise<unknown> {
  const fn = (redis as unknown as Record<string, (...a: ScriptArg[]) => Promise<unknown>>)[`lg_${name}`];
  if (!fn) throw new Error(`script ${name} is not defined on this connection`);
  return fn.call(redis, ...keys, ...args);
}

/** Queues a script on a pipeline made from a connection that has the scripts defined. */
export function queueScript(pipeline: ChainableCommander, name: ScriptName, keys: string[], args: ScriptArg[]): void {
  const fn = (pipeline as unknown as Record<string, (...a: ScriptArg[]) => unknown>)[`lg_${name}`];
  if (!fn) throw new Error(`script ${name} is not defined on this pipeline`);
  fn.call(pipeline, ...keys, ...args);
}
