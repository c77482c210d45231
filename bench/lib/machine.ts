/** What the results were measured on. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { findRedisServer } from '../../src/store/embedded-redis.ts';
import type { MachineInfo } from './types.ts';

function redisVersion(): string {
  const bin = findRedisServer();
  if (!bin) return 'not found';
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 5_000 }).trim();
  } catch (err) {
    return `unknown (${(err as Error).message})`;
  }
}

function osName(): string {
  let distro = '';
  try {
    distro = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    // not Linux
  }
  return `${distro ? `${distro}, ` : ''}${os.type()} ${os.release()} ${os.arch()}`;
}

/** HEAD and uncommitted changes of the working tree (the code that was measured). */
export function gitState(root: string): { commit: string | null; dirty: string[] } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', timeout: 5_000 }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8', timeout: 5_000 })
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: [] };
  }
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    redis: redisVersion(),
    os: osName(),
  };
}
