/** agent-sim fleet shaping: OS mix, seeded choices, the plan, capacity checks, histograms. */
import { describe, expect, it } from 'vitest';
import { Histogram } from '../../agent-sim/histogram.ts';
import { checkCapacity } from '../../agent-sim/limits.ts';
import { parseOptions, type SimOptions } from '../../agent-sim/options.ts';
import { apportion, assignOs, OS_NAMES, osNameOf, osProfile, parseOsMix } from '../../agent-sim/os-mix.ts';
import { buildPlan, splitPlan } from '../../agent-sim/plan.ts';
import { deriveRandom, seededRandom } from '../../agent-sim/prng.ts';
import { osFactsFromReport } from '../../src/gateway/wire-mapping.ts';
import { licenseTypeForOs } from '../../src/licensing/os-license-map.ts';
import { decodeClientFrame } from '../../src/protocol/decode-client-frame.ts';
import { ClientFrame } from '../../src/protocol/wire.ts';

function options(extra: string[]): SimOptions {
  const parsed = parseOptions(['--url', 'ws://127.0.0.1:1', '--token', 't', ...extra], {}, () => 1);
  if (parsed.kind !== 'run') throw new Error('expected a run');
  return parsed.options;
}

/** The license type the gateway derives from a profile: encode Hello, decode as the gateway does, map. */
function gatewayTypeFor(name: (typeof OS_NAMES)[number]): string | null {
  const bytes = ClientFrame.encode({ hello: { tenantId: 'default', clientId: 'c1', os: osProfile(name), agentVersion: '1', enrollmentToken: 't' } }).finish();
  const msg = decodeClientFrame(bytes);
  if (msg.kind !== 'hello') throw new Error('not a hello');
  return licenseTypeForOs(osFactsFromReport(msg.hello.os));
}

describe('agent-sim OS mix', () => {
  it('L2: every mix name reports OS facts that the gateway maps to the intended license type', () => {
    expect(Object.fromEntries(OS_NAMES.map((n) => [n, gatewayTypeFor(n)]))).toEqual({
      windows: 'workstation',
      macos: 'workstation',
      linux: 'linux',
      'windows-server': 'infrastructure-server',
      'terminal-server': 'terminal-server',
      'cloud-server': 'cloud-server',
      unknown: null,
    });
    for (const n of OS_NAMES) expect(osNameOf(osProfile(n))).toBe(n);
  });

  it('L2: weights are normalised and apportioned exactly (largest remainder), always summing to the fleet size', () => {
    const mix = parseOsMix('windows:60,linux:25,macos:10,windows-server:5');
    expect(Object.fromEntries(apportion(mix, 60))).toEqual({ windows: 36, linux: 15, macos: 6, 'windows-server': 3 });
    expect(Object.fromEntries(apportion(mix, 7))).toEqual({ windows: 4, linux: 2, macos: 1, 'windows-server': 0 });
    expect(Object.fromEntries(apportion(parseOsMix('windows:3,linux:1'), 10))).toEqual({ windows: 8, linux: 2 });
    expect(Object.fromEntries(apportion(parseOsMix('linux:1,macos:1,unknown:1'), 2))).toEqual({ linux: 1, macos: 1, unknown: 0 });
    for (let n = 0; n < 200; n += 7) {
      const counts = [...apportion(parseOsMix('windows:1.3,linux:2.9,terminal-server:0.01,cloud-server:4'), n).values()];
      expect(counts.reduce((a, b) => a + b, 0)).toBe(n);
    }
  });

  it('L2: the same seed deals the same OS to the same agent; another seed shuffles differently', () => {
    const mix = parseOsMix('windows:60,linux:25,macos:10,windows-server:5');
    const a = assignOs(mix, 1000, seededRandom(42));
    expect(assignOs(mix, 1000, seededRandom(42))).toEqual(a);
    expect(assignOs(mix, 1000, seededRandom(43))).not.toEqual(a);
    expect(a.filter((n) => n === 'windows')).toHaveLength(600);
    // Interleaved, not in blocks: a ramp does not connect all Windows agents first.
    expect(new Set(a.slice(0, 50)).size).toBeGreaterThan(2);
    const r1 = deriveRandom(7, 1);
    const r2 = deriveRandom(7, 2);
    expect(r1()).not.toBe(r2());
  });

  it('L2 C8 C12: the plan reuses state agents first, seeds OS, non-persistent and uninstall choices, and ramps evenly', () => {
    const o = options(['--agents', '100', '--seed', '9', '--non-persistent', '5', '--uninstall', '3', '--ramp', '10s', '--duration', '20s', '--procs', '3']);
    const loaded = [{ clientId: 'kept-1', tenantId: 'default', credential: 'secret', lastAckedSeq: 4, os: osProfile('linux'), hostname: 'h', nonPersistent: false }];
    const plan = buildPlan(o, loaded, 'run1');
    expect(plan).toMatchObject({ reused: 1, created: 99, nonPersistent: 5, uninstalling: 3, extras: [] });
    expect(plan.plans[0]!.state).toEqual(loaded[0]);
    expect(plan.plans[1]!.state).toMatchObject({ clientId: 'sim-run1-1', tenantId: 'default', lastAckedSeq: 0 });
    expect(plan.plans[1]!.state.credential).toBeUndefined();
    expect(plan.plans.map((p) => p.connectAtMs)).toEqual(Array.from({ length: 100 }, (_, i) => i * 100));
    const uninstallTimes = plan.plans.map((p) => p.uninstallAtMs).filter((t) => t >= 0);
    expect(uninstallTimes).toHaveLength(3);
    for (const t of uninstallTimes) expect(t >= 2000 && t <= 18_000).toBe(true);
    expect(plan.plans.map((p) => p.localAddress).slice(0, 21)).toEqual([...Array.from({ length: 20 }, (_, i) => `127.0.0.${i + 1}`), '127.0.0.1']);
    // Same seed, same choices (client ids differ per run so runs never collide).
    const again = buildPlan(o, loaded, 'run2');
    expect(again.plans.map((p) => [p.state.os, p.state.nonPersistent, p.uninstallAtMs])).toEqual(plan.plans.map((p) => [p.state.os, p.state.nonPersistent, p.uninstallAtMs]));
    // 99 new agents apportioned 59/25/10/5, plus the reused linux agent.
    expect(plan.osCounts).toEqual({ windows: 59, linux: 26, macos: 10, 'windows-server': 5 });
    // Round robin over processes.
    const parts = splitPlan(plan.plans, 3);
    expect(parts.map((p) => p.length)).toEqual([34, 33, 33]);
    expect(parts[1]!.slice(0, 3).map((p) => p.index)).toEqual([1, 4, 7]);
    // State agents beyond --agents are kept for the file, not run.
    const small = buildPlan(options(['--agents', '1']), [...loaded, { ...loaded[0]!, clientId: 'kept-2' }], 'r');
    expect(small).toMatchObject({ reused: 1, created: 0 });
    expect(small.extras.map((s) => s.clientId)).toEqual(['kept-2']);
  });

  it('C13: a fleet that cannot fit the open-file limit or the ephemeral ports is refused with the fix', () => {
    expect(checkCapacity({ agents: 10_000, procs: 1, sourceIps: 20, fdLimit: 20_000, ports: 28_232 })).toBeNull();
    expect(checkCapacity({ agents: 30_000, procs: 1, sourceIps: 20, fdLimit: 20_000, ports: 28_232 })).toMatch(/30,000 agents per process exceed the open-file limit of 20,000; use --procs 2 or more/);
    expect(checkCapacity({ agents: 30_000, procs: 2, sourceIps: 20, fdLimit: 20_000, ports: 28_232 })).toBeNull();
    expect(checkCapacity({ agents: 30_000, procs: 2, sourceIps: 1, fdLimit: 20_000, ports: 28_232 })).toMatch(/over 1 source addresses exceed 25,408 ports per address; give 2 or more addresses/);
    expect(checkCapacity({ agents: 30_000, procs: 2, sourceIps: 0, fdLimit: null, ports: 28_232 })).toMatch(/give --source-ips with 2 or more local addresses/);
  });

  it('C13: latency histograms give ordered percentiles within 1%, exact min/max, and merge across processes', () => {
    const a = new Histogram();
    const b = new Histogram();
    const all: number[] = [];
    const random = seededRandom(5);
    for (let i = 0; i < 20_000; i++) {
      const v = Math.exp(random() * 9) - 1; // 0 .. ~8000 ms, skewed like latencies
      all.push(v);
      (i % 2 ? a : b).record(v);
    }
    const merged = new Histogram();
    merged.merge(a.toData());
    merged.merge(JSON.parse(JSON.stringify(b.toData())));
    all.sort((x, y) => x - y);
    const exact = (q: number) => all[Math.ceil(q * all.length) - 1]!;
    for (const q of [0.5, 0.9, 0.99]) expect(Math.abs(merged.quantile(q) - exact(q)) / exact(q)).toBeLessThan(0.01);
    const s = merged.summary()!;
    expect(s.count).toBe(20_000);
    expect(s.max).toBeCloseTo(all.at(-1)!, 2);
    expect(s.min).toBeCloseTo(all[0]!, 2);
    expect(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.max).toBe(true);
    expect(new Histogram().summary()).toBeNull();
  });
});
