/** agent-sim command line: every option, the defaults, and a clear error for each bad argument. */
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../agent-sim/duration.ts';
import { DEFAULT_OS_MIX } from '../../agent-sim/os-mix.ts';
import { parseOptions, UsageError, type SimOptions } from '../../agent-sim/options.ts';
import { parseSourceIps } from '../../agent-sim/addresses.ts';

const base = ['--url', 'ws://127.0.0.1:8080', '--agents', '100', '--token', 'tok-123'];

function run(args: string[], env: NodeJS.ProcessEnv = {}): SimOptions {
  const parsed = parseOptions(args, env, () => 12345);
  if (parsed.kind !== 'run') throw new Error('expected a run');
  return parsed.options;
}

function usageError(args: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseOptions(args, env, () => 1);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error(`no error for ${args.join(' ')}`);
}

describe('agent-sim options', () => {
  it('R3: the minimal command line gets safe defaults (storm, 60s, loopback source range, random seed)', () => {
    expect(run(base)).toEqual({
      url: 'ws://127.0.0.1:8080',
      connectUrl: 'ws://127.0.0.1:8080/',
      tenant: 'default',
      token: 'tok-123',
      agents: 100,
      osMix: [
        { name: 'windows', weight: 60 },
        { name: 'linux', weight: 25 },
        { name: 'macos', weight: 10 },
        { name: 'windows-server', weight: 5 },
      ],
      osMixGiven: false,
      seed: 12345,
      rampMs: 0,
      durationMs: 60_000,
      churnPercent: 0,
      churnIntervalMs: 10_000,
      uninstallPercent: 0,
      nonPersistentPercent: 0,
      stateFile: undefined,
      procs: 1,
      sourceIps: Array.from({ length: 20 }, (_, i) => `127.0.0.${i + 1}`),
      allowRemote: false,
      json: false,
      reportFile: undefined,
      quiet: false,
      tls: {},
    });
    expect(DEFAULT_OS_MIX).toBe('windows:60,linux:25,macos:10,windows-server:5');
  });

  it('R3: every option is parsed into typed values', () => {
    const o = run([
      '--url', 'wss://localhost:9443/agent', '--agents', '10000', '--tenant', 'acme.eu-1', '--token', 'T0KEN',
      '--os-mix', 'windows:1,terminal-server:1,cloud-server:0.5,unknown:2.5', '--seed', '4294967295',
      '--ramp', '30s', '--duration', '2m', '--churn', '10', '--churn-interval', '500ms', '--uninstall', '1.5',
      '--non-persistent', '5', '--state', 'fleet.json', '--procs', '4', '--source-ips', '127.0.0.2-127.0.0.4,127.0.1.1',
      '--report', 'out.json', '--json', '--quiet',
    ]);
    expect(o).toMatchObject({
      url: 'wss://localhost:9443/agent',
      connectUrl: 'wss://127.0.0.1:9443/agent',
      tenant: 'acme.eu-1',
      token: 'T0KEN',
      agents: 10_000,
      osMix: [
        { name: 'windows', weight: 1 },
        { name: 'terminal-server', weight: 1 },
        { name: 'cloud-server', weight: 0.5 },
        { name: 'unknown', weight: 2.5 },
      ],
      seed: 4294967295,
      rampMs: 30_000,
      durationMs: 120_000,
      churnPercent: 10,
      churnIntervalMs: 500,
      uninstallPercent: 1.5,
      nonPersistentPercent: 5,
      stateFile: 'fleet.json',
      procs: 4,
      sourceIps: ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.1.1'],
      json: true,
      reportFile: 'out.json',
      quiet: true,
    });
    expect(run([...base, '--storm']).rampMs).toBe(0);
    expect(parseOptions(['--help'])).toEqual({ kind: 'help' });
    expect(parseOptions(['-h'])).toEqual({ kind: 'help' });
  });

  it('Z1 R3: --ca, --cert and --key are kept as paths for wss:// and refused with ws:// or alone', () => {
    const wss = ['--url', 'wss://127.0.0.1:8443', '--agents', '1', '--token', 'tok-123'];
    expect(run([...wss, '--ca', 'ca.pem']).tls).toEqual({ caFile: 'ca.pem' });
    expect(run([...wss, '--ca', 'ca.pem', '--cert', 'c.pem', '--key', 'c.key']).tls).toEqual({ caFile: 'ca.pem', certFile: 'c.pem', keyFile: 'c.key' });
    expect(usageError([...base, '--ca', 'ca.pem'])).toMatch(/need a wss:\/\/ --url/);
    expect(usageError([...wss, '--cert', 'c.pem'])).toMatch(/--cert and --key go together/);
    expect(usageError([...wss, '--key', 'c.key'])).toMatch(/--cert and --key go together/);
    expect(usageError([...wss, '--ca', ''])).toMatch(/--ca: needs a file name/);
  });

  it('R3: the token may come from AGENT_SIM_TOKEN; --token wins', () => {
    const args = ['--url', 'ws://127.0.0.1:8080', '--agents', '1'];
    expect(run(args, { AGENT_SIM_TOKEN: 'from-env' }).token).toBe('from-env');
    expect(run([...args, '--token', 'flag'], { AGENT_SIM_TOKEN: 'from-env' }).token).toBe('flag');
    expect(run(args).token).toBeUndefined(); // fine when every agent has a credential (--state)
  });

  it('R3: remote targets are refused unless --allow-remote, and then no loopback source range is imposed', () => {
    expect(usageError(['--url', 'ws://10.1.2.3:8080', '--agents', '1'])).toMatch(/10\.1\.2\.3 is not a loopback address.*--allow-remote/);
    expect(usageError(['--url', 'ws://gateway.example.com', '--agents', '1'])).toMatch(/--allow-remote/);
    expect(usageError(['--url', 'ws://[::1]:8080', '--agents', '1'])).toMatch(/not a loopback address/);
    const remote = run(['--url', 'wss://gateway.example.com/agent', '--agents', '5', '--allow-remote']);
    expect(remote.sourceIps).toEqual([]);
    expect(remote.connectUrl).toBe('wss://gateway.example.com/agent');
    expect(run(['--url', 'ws://gw.example.com', '--agents', '5', '--allow-remote', '--source-ips', '10.0.0.5-10.0.0.6']).sourceIps).toEqual(['10.0.0.5', '10.0.0.6']);
    expect(run(['--url', 'ws://127.42.0.1:1', '--agents', '1']).connectUrl).toBe('ws://127.42.0.1:1/');
  });

  it('R3: each bad argument is refused with a one-line message naming it', () => {
    const cases: [string[], RegExp][] = [
      [['--agents', '1'], /--url is required/],
      [['--url', 'ws://127.0.0.1:1'], /--agents is required/],
      [['--url', 'http://127.0.0.1:8080', '--agents', '1'], /--url: .* must start with ws:\/\/ or wss:\/\//],
      [['--url', 'not a url', '--agents', '1'], /--url: "not a url" is not a URL/],
      [[...base.slice(0, 2), '--agents', '0'], /--agents: 0 is out of range/],
      [[...base.slice(0, 2), '--agents', '2000000'], /--agents: 2000000 is out of range/],
      [[...base.slice(0, 2), '--agents', '1e3'], /--agents: "1e3" is not a whole number/],
      [[...base, '--tenant', 'bad tenant'], /--tenant: "bad tenant" must be 1-64 characters/],
      [[...base, '--token', 'has space'], /--token: must be 1-512 printable characters/],
      [[...base, '--os-mix', 'windows:60,beos:40'], /--os-mix: unknown OS "beos" \(one of windows, linux, macos, windows-server, terminal-server, cloud-server, unknown\)/],
      [[...base, '--os-mix', 'windows'], /--os-mix: "windows" is not NAME:WEIGHT/],
      [[...base, '--os-mix', 'windows:1,windows:2'], /--os-mix: "windows" is given twice/],
      [[...base, '--os-mix', 'linux:0'], /--os-mix: at least one weight must be above 0/],
      [[...base, '--seed', '-1'], /seed/],
      [[...base, '--seed', '4294967296'], /--seed: 4294967296 is out of range/],
      [[...base, '--ramp', '30'], /--ramp: "30" is not a duration \(add a unit\)/],
      [[...base, '--ramp', '10s', '--storm'], /--ramp and --storm are mutually exclusive/],
      [[...base, '--ramp', '2m', '--duration', '1m'], /--ramp \(2m\) must be shorter than --duration \(1m\)/],
      [[...base, '--ramp', '60s'], /--ramp \(60s\) must be shorter than --duration \(60s\)/],
      [[...base, '--duration', '0s'], /--duration: must be above 0/],
      [[...base, '--duration', '61m'], /--duration: 61m is longer than the maximum of 1h/],
      [[...base, '--duration', 'forever'], /--duration: "forever" is not a duration/],
      [[...base, '--churn', '101'], /--churn: 101 is above 100/],
      [[...base, '--churn', 'lots'], /--churn: "lots" is not a percentage/],
      [[...base, '--churn-interval', '5s'], /--churn-interval needs --churn PCT/],
      [[...base, '--churn', '5', '--churn-interval', '0ms'], /--churn-interval: must be above 0/],
      [[...base, '--uninstall', '-3'], /uninstall/],
      [[...base, '--non-persistent', '200'], /--non-persistent: 200 is above 100/],
      [[...base, '--procs', '0'], /--procs: 0 is out of range \(1-64\)/],
      [[...base, '--procs', '65'], /--procs: 65 is out of range/],
      [['--url', 'ws://127.0.0.1:1', '--agents', '2', '--procs', '3'], /--procs \(3\) is more than --agents \(2\)/],
      [[...base, '--source-ips', '127.0.0.9-127.0.0.1'], /--source-ips: range "127.0.0.9-127.0.0.1" ends before it starts/],
      [[...base, '--source-ips', '127.0.0.300'], /--source-ips: "127.0.0.300" is not an IPv4 address or range/],
      [[...base, '--source-ips', '10.0.0.1'], /--source-ips: a loopback target needs source addresses in 127.0.0.0\/8/],
      [[...base, '--source-ips', '127.0.0.1,127.0.0.1'], /--source-ips: source addresses repeat/],
      [[...base, '--state', ''], /--state: needs a file name/],
      [[...base, '--report', ''], /--report: needs a file name/],
      [[...base, '--bogus'], /Unknown option '--bogus'/],
      [[...base, 'stray'], /positional argument/],
      [[...base, '--agents'], /--agents/],
    ];
    for (const [args, expected] of cases) expect(usageError(args), args.join(' ')).toMatch(expected);
  });

  it('R3: durations take ms, s, m and h, and nothing unitless', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    for (const bad of ['', '5', 's', '5 min', '-1s', '1d']) expect(() => parseDuration(bad), bad).toThrow(/is not a duration/);
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(30_000)).toBe('30s');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(3_600_000)).toBe('1h');
  });

  it('R3: source address ranges expand in order; none leaves the choice to the OS', () => {
    expect(parseSourceIps('127.0.0.254-127.0.1.1')).toEqual(['127.0.0.254', '127.0.0.255', '127.0.1.0', '127.0.1.1']);
    expect(parseSourceIps('127.0.0.7')).toEqual(['127.0.0.7']);
    expect(parseSourceIps('none')).toEqual([]);
    expect(() => parseSourceIps('127.0.0.0-127.0.255.255')).toThrow(/more than 1024/);
  });
});
