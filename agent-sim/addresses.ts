/**
 * Target and source addresses. The simulator is a load generator: by default it may only
 * aim at this machine (127.0.0.0/8 or `localhost`), and it spreads its sockets over several
 * loopback source addresses so that one (source address, target) pair never runs out of
 * ephemeral ports.
 */
import { isIPv4 } from 'node:net';

/** Default source range for loopback targets. */
export const DEFAULT_SOURCE_IPS = '127.0.0.1-127.0.0.20';
/** Most source addresses one range may expand to. */
export const MAX_SOURCE_IPS = 1024;

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** True for an IPv4 address in 127.0.0.0/8. */
export function isLoopbackIpv4(ip: string): boolean {
  return isIPv4(ip) && ip.startsWith('127.');
}

/** True when a URL host (as `URL.hostname` gives it) is `localhost` or in 127.0.0.0/8. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || isLoopbackIpv4(hostname);
}

/**
 * Expands `127.0.0.1-127.0.0.20`, a single address, or a comma-separated list of both into
 * addresses, in order. `none` gives an empty list (the OS picks the source). Throws a
 * RangeError naming the offending part.
 */
export function parseSourceIps(text: string): string[] {
  if (text.trim() === 'none') return [];
  const out: string[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const [from, to = from, extra] = part.split('-').map((p) => p.trim());
    if (extra !== undefined || !from || !isIPv4(from) || !isIPv4(to)) {
      throw new RangeError(`"${part}" is not an IPv4 address or range like 127.0.0.1-127.0.0.20`);
    }
    const a = ipv4ToInt(from);
    const b = ipv4ToInt(to);
    if (b < a) throw new RangeError(`range "${part}" ends before it starts`);
    if (out.length + (b - a + 1) > MAX_SOURCE_IPS) throw new RangeError(`more than ${MAX_SOURCE_IPS} source addresses`);
    for (let n = a; n <= b; n++) out.push(intToIpv4(n));
  }
  if (new Set(out).size !== out.length) throw new RangeError('source addresses repeat');
  return out;
}
