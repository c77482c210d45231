/**
 * Pre-flight capacity checks, so a fleet that cannot fit fails at once with advice instead of
 * minutes later with EMFILE or EADDRNOTAVAIL: every agent needs one open file in its process,
 * and one ephemeral port on its source address.
 */
import { readFileSync } from 'node:fs';

/** Descriptors a process needs besides its agents (stdio, IPC, DNS, timers, files). */
export const FD_RESERVE = 100;
/** Keep this share of the ephemeral port range free for everything else on the machine. */
const PORT_SHARE = 0.9;

/** This process's soft open-file limit (Linux /proc), or null when unknown. */
export function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!m) return null;
    return m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return null;
  }
}

/** Ephemeral ports per source address (Linux ip_local_port_range; 28,232 when unknown). */
export function ephemeralPorts(): number {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && hi! >= lo!) return hi! - lo! + 1;
  } catch {
    // not Linux: use Linux's default range
  }
  return 28_232;
}

/** Inputs of checkCapacity; the limits default to this machine's. */
export interface CapacityInput {
  agents: number;
  procs: number;
  sourceIps: number;
  fdLimit?: number | null;
  ports?: number;
}

/** A one-line reason the fleet cannot fit, with the flag that fixes it; null when it fits. */
export function checkCapacity(input: CapacityInput): string | null {
  const fdLimit = input.fdLimit === undefined ? openFileLimit() : input.fdLimit;
  const ports = input.ports ?? ephemeralPorts();
  const perProc = Math.ceil(input.agents / input.procs);
  if (fdLimit !== null && perProc + FD_RESERVE > fdLimit) {
    const need = Math.ceil(input.agents / Math.max(1, fdLimit - FD_RESERVE));
    return `${perProc.toLocaleString('en-US')} agents per process exceed the open-file limit of ${fdLimit.toLocaleString('en-US')}; use --procs ${need} or more`;
  }
  const usable = Math.floor(ports * PORT_SHARE);
  const addresses = Math.max(1, input.sourceIps);
  if (Math.ceil(input.agents / addresses) > usable) {
    const need = Math.ceil(input.agents / usable);
    return input.sourceIps === 0
      ? `${input.agents.toLocaleString('en-US')} agents need more ephemeral ports than one source address has (${usable.toLocaleString('en-US')}); give --source-ips with ${need} or more local addresses`
      : `${input.agents.toLocaleString('en-US')} agents over ${input.sourceIps} source addresses exceed ${usable.toLocaleString('en-US')} ports per address; give ${need} or more addresses in --source-ips`;
  }
  return null;
}
