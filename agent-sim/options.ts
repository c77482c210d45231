/**
 * `agent-sim` command line → validated, typed options. Every rejection is a UsageError with a
 * one-line message (the CLI prints it and exits 2); nothing here touches the network or disk.
 */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DEFAULT_SOURCE_IPS, isLoopbackHost, isLoopbackIpv4, parseSourceIps } from './addresses.ts';
import { parseDuration } from './duration.ts';
import { DEFAULT_OS_MIX, parseOsMix, type OsMixEntry } from './os-mix.ts';
import { checkTlsFlags, type TlsFlags } from './tls-options.ts';

/** A bad command line; `message` is one line meant for the operator. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Validated options of one simulator run. */
export interface SimOptions {
  /** The gateway URL as given. */
  url: string;
  /** What the agents connect to: `url`, with `localhost` pinned to 127.0.0.1 (source addresses are IPv4). */
  connectUrl: string;
  /** Tenant id sent in Hello. Default 'default'. */
  tenant: string;
  /** Enrollment token for agents without a credential (--token, else $AGENT_SIM_TOKEN). */
  token: string | undefined;
  /** Fleet size across all processes. Required. */
  agents: number;
  /** OS mix of newly created agents. Default: the state file's mix, else DEFAULT_OS_MIX. */
  osMix: OsMixEntry[];
  /** --os-mix was given: it wins over the mix a state file was made with (issue 12). */
  osMixGiven: boolean;
  /** PRNG seed; random when not given (the report records it). */
  seed: number;
  /** Connects are spread evenly over this many ms; 0 = storm (all at once). Default 0. */
  rampMs: number;
  /** Run time from the start of connecting to the clean disconnect. Default 60 000, at most 1 h. */
  durationMs: number;
  /** Percent of agents that disconnect and reconnect once per churn interval. Default 0. */
  churnPercent: number;
  /** Default 10 000 ms. */
  churnIntervalMs: number;
  /** Percent of agents that send UninstallNotice during the run. Default 0. */
  uninstallPercent: number;
  /** Percent of newly created agents that report non_persistent. Default 0. */
  nonPersistentPercent: number;
  /** Credentials file to load before and save after the run. */
  stateFile: string | undefined;
  /** Processes the fleet is split over (this one plus procs-1 workers). Default 1. */
  procs: number;
  /** Local addresses the sockets bind to, round robin; empty = the OS chooses. */
  sourceIps: string[];
  /** Allow a target outside 127.0.0.0/8 and localhost. */
  allowRemote: boolean;
  /** Summary as JSON on stdout instead of a table. */
  json: boolean;
  /** Write the full report as JSON to this file. */
  reportFile: string | undefined;
  /** No progress line. */
  quiet: boolean;
  /** wss://: --ca, --cert, --key (paths; tls-options.ts reads them). Empty: the system's CAs, no client certificate. */
  tls: TlsFlags;
}

/** Largest --duration: a load loop must always end by itself. */
export const MAX_DURATION_MS = 3_600_000;
/** --duration when not given. */
export const DEFAULT_DURATION_MS = 60_000;
/** --churn-interval when not given. */
export const DEFAULT_CHURN_INTERVAL_MS = 10_000;
/** Largest --agents. */
export const MAX_AGENTS = 1_000_000;
/** Largest --procs. */
export const MAX_PROCS = 64;
/** Hidden flag that makes the CLI run as a worker process of a parent simulator. */
export const WORKER_FLAG = '--internal-worker';

/** Usage text for --help. */
export const USAGE = `usage: agent-sim --url ws://127.0.0.1:8080 --agents N [--token TOKEN] [options]

Simulates a fleet of endpoint agents against a licensegate gateway (load testing).

  --url URL               gateway WebSocket URL (ws:// or wss://); required
  --agents N              fleet size across all processes; required
  --tenant ID             tenant id (default: default)
  --token TOKEN           enrollment token for agents without a credential
                          (default: $AGENT_SIM_TOKEN)
  --os-mix MIX            name:weight,... of windows, linux, macos, windows-server,
                          terminal-server, cloud-server, unknown
                          (default: ${DEFAULT_OS_MIX})
  --seed N                seed for OS, non-persistent and uninstall choices (default: random)
  --ramp DURATION         spread connects evenly over DURATION (e.g. 30s)
  --storm                 connect every agent at once (default)
  --duration DURATION     run time, then disconnect cleanly and exit (default: 60s, max: 1h;
                          handshakes still in flight get up to 5s more to finish)
  --churn PCT             percent of agents that disconnect and reconnect each interval
  --churn-interval DUR    churn interval (default: 10s)
  --uninstall PCT         percent of agents that send UninstallNotice during the run
  --non-persistent PCT    percent of new agents that report non_persistent
  --state FILE            load agent credentials from FILE if it exists; save them at the end
  --procs N               split the fleet over N processes (default: 1)
  --source-ips RANGE      source addresses, e.g. 127.0.0.1-127.0.0.20 (the default for
                          loopback targets), a list, or none
  --allow-remote          allow a target outside 127.0.0.0/8 and localhost
  --ca FILE               wss://: trust the gateway certificate's CA from FILE (PEM)
                          instead of the system's CAs
  --cert FILE --key FILE  wss://: client certificate and key (PEM) for a gateway that
                          asks for one (TLS_CA_FILE)
  --report FILE           write every figure as JSON to FILE
  --json                  print the summary as JSON instead of a table
  --quiet                 no progress line
  -h, --help              this text

Durations: 500ms, 30s, 2m, 1h. Exit codes: 0 run completed; 1 an agent ended with an
unexpected error (not OVERLOADED or SUPERSEDED), a worker process failed, or a file could
not be written; 2 bad arguments; 130 interrupted.`;

const OPTIONS = {
  url: { type: 'string' },
  tenant: { type: 'string' },
  token: { type: 'string' },
  agents: { type: 'string' },
  'os-mix': { type: 'string' },
  seed: { type: 'string' },
  ramp: { type: 'string' },
  storm: { type: 'boolean' },
  duration: { type: 'string' },
  churn: { type: 'string' },
  'churn-interval': { type: 'string' },
  uninstall: { type: 'string' },
  'non-persistent': { type: 'string' },
  state: { type: 'string' },
  procs: { type: 'string' },
  'source-ips': { type: 'string' },
  'allow-remote': { type: 'boolean' },
  report: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** What the command line asks for: help, or a run. */
export type ParsedCommand = { kind: 'help' } | { kind: 'run'; options: SimOptions };

function integer(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${flag}: "${text}" is not a whole number`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`--${flag}: ${text} is out of range (${min}-${max.toLocaleString('en-US')})`);
  return n;
}

function percent(flag: string, text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^\d+(\.\d+)?$/.test(text)) throw new UsageError(`--${flag}: "${text}" is not a percentage (0-100)`);
  const n = Number(text);
  if (n > 100) throw new UsageError(`--${flag}: ${text} is above 100`);
  return n;
}

function duration(flag: string, text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`);
  }
  if (ms <= 0) throw new UsageError(`--${flag}: must be above 0`);
  return ms;
}

function parseUrl(text: string | undefined, allowRemote: boolean): { url: string; connectUrl: string; loopback: boolean } {
  if (text === undefined) throw new UsageError('--url is required (e.g. --url ws://127.0.0.1:8080)');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url: "${text}" is not a URL`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new UsageError(`--url: "${text}" must start with ws:// or wss://`);
  const loopback = isLoopbackHost(url.hostname);
  if (!loopback && !allowRemote) {
    throw new UsageError(`--url: ${url.hostname} is not a loopback address (127.0.0.0/8 or localhost); add --allow-remote to load-test your own deployment`);
  }
  if (url.hostname === 'localhost') url.hostname = '127.0.0.1';
  return { url: text, connectUrl: url.toString(), loopback };
}

/**
 * Parses the command line (without the node and script arguments). `env` supplies
 * AGENT_SIM_TOKEN; `randomSeed` the seed when --seed is absent. Throws UsageError.
 */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, randomSeed: () => number = () => randomInt(0, 2 ** 32 - 1)): ParsedCommand {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!);
  }
  if (values.help) return { kind: 'help' };

  const allowRemote = values['allow-remote'] === true;
  const { url, connectUrl, loopback } = parseUrl(values.url, allowRemote);

  if (values.agents === undefined) throw new UsageError('--agents is required (e.g. --agents 1000)');
  const agents = integer('agents', values.agents, 1, MAX_AGENTS);

  const tenant = values.tenant ?? 'default';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(tenant)) throw new UsageError(`--tenant: "${tenant}" must be 1-64 characters of [A-Za-z0-9._-]`);

  const token = values.token ?? (env.AGENT_SIM_TOKEN || undefined);
  if (token !== undefined && !/^[\x21-\x7e]{1,512}$/.test(token)) throw new UsageError('--token: must be 1-512 printable characters without spaces');

  let osMix: OsMixEntry[];
  try {
    osMix = parseOsMix(values['os-mix'] ?? DEFAULT_OS_MIX);
  } catch (err) {
    throw new UsageError(`--os-mix: ${(err as Error).message}`);
  }

  const seed = values.seed === undefined ? randomSeed() : integer('seed', values.seed, 0, 2 ** 32 - 1);

  if (values.storm && values.ramp !== undefined) throw new UsageError('--ramp and --storm are mutually exclusive');
  const durationMs = values.duration === undefined ? DEFAULT_DURATION_MS : duration('duration', values.duration);
  if (durationMs > MAX_DURATION_MS) throw new UsageError(`--duration: ${values.duration} is longer than the maximum of 1h`);
  const rampMs = values.ramp === undefined ? 0 : duration('ramp', values.ramp);
  if (rampMs >= durationMs) throw new UsageError(`--ramp (${values.ramp}) must be shorter than --duration (${values.duration ?? '60s'})`);

  const churnPercent = percent('churn', values.churn);
  const churnIntervalMs = values['churn-interval'] === undefined ? DEFAULT_CHURN_INTERVAL_MS : duration('churn-interval', values['churn-interval']);
  if (values['churn-interval'] !== undefined && churnPercent === 0) throw new UsageError('--churn-interval needs --churn PCT');

  const procs = values.procs === undefined ? 1 : integer('procs', values.procs, 1, MAX_PROCS);
  if (procs > agents) throw new UsageError(`--procs (${procs}) is more than --agents (${agents})`);

  let sourceIps: string[];
  try {
    sourceIps = parseSourceIps(values['source-ips'] ?? (loopback ? DEFAULT_SOURCE_IPS : 'none'));
  } catch (err) {
    throw new UsageError(`--source-ips: ${(err as Error).message}`);
  }
  if (loopback && sourceIps.some((ip) => !isLoopbackIpv4(ip))) {
    throw new UsageError('--source-ips: a loopback target needs source addresses in 127.0.0.0/8');
  }

  if (values.state === '') throw new UsageError('--state: needs a file name');
  if (values.report === '') throw new UsageError('--report: needs a file name');
  const tls = checkTlsFlags({ caFile: values.ca, certFile: values.cert, keyFile: values.key }, new URL(connectUrl).protocol);
  if (typeof tls === 'string') throw new UsageError(tls);

  return {
    kind: 'run',
    options: {
      url,
      connectUrl,
      tenant,
      token,
      agents,
      osMix,
      osMixGiven: values['os-mix'] !== undefined,
      seed,
      rampMs,
      durationMs,
      churnPercent,
      churnIntervalMs,
      uninstallPercent: percent('uninstall', values.uninstall),
      nonPersistentPercent: percent('non-persistent', values['non-persistent']),
      stateFile: values.state,
      procs,
      sourceIps,
      allowRemote,
      json: values.json === true,
      reportFile: values.report,
      quiet: values.quiet === true,
      tls,
    },
  };
}
