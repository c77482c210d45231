/**
 * Start-up failures an operator can act on (SPEC R3; issue 8 item 11). Only a few start-up
 * steps may stop the process — Redis must answer, the default tenant must be readable, the
 * ports must be free — and each failure names its step and how to recover. Expected conditions
 * (a coded error, a port in use, Redis unreachable, a damaged AOF) carry no stack trace to
 * print; anything else keeps its cause for the log. Everything else start-up does with stored
 * state (the dev key, expiring keys, pending sagas) logs and carries on: see src/serve.ts.
 */
import { LicensegateError } from './errors.ts';

export type StartupStep = 'embedded-redis' | 'redis' | 'durability' | 'default-tenant' | 'tls' | 'gateway' | 'health' | 'console';

/** What start-up was doing, for the recovery hint. */
export interface StartupSettings {
  dataDir: string;
  keyPrefix: string;
  gatewayHost: string;
  gatewayPort: number;
  httpPort: number;
  embedded: boolean;
}

export class StartupError extends LicensegateError {
  constructor(
    readonly step: StartupStep,
    detail: string,
    /** What the operator does about it, in one sentence. */
    readonly recovery: string,
    /** True for conditions the operator expects to meet (no stack trace is shown). */
    readonly expected: boolean,
    cause: unknown,
  ) {
    super('STARTUP_FAILED', `${step}: ${detail}`, { cause });
    this.name = 'StartupError';
  }
}

const systemCode = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

function portRecovery(variable: string, host: string, port: number, code: string | undefined): string {
  if (code === 'EADDRINUSE') return `${host}:${port} is in use: stop the process that holds it, or set ${variable} to a free port (0 picks one)`;
  if (code === 'EACCES') return `${host}:${port} needs privileges: set ${variable} to a port above 1023`;
  if (code === 'EADDRNOTAVAIL') return `${host} is not an address of this machine: set GATEWAY_HOST`;
  return `check ${variable} and GATEWAY_HOST`;
}

function recoveryOf(step: StartupStep, err: unknown, s: StartupSettings): string {
  const message = err instanceof Error ? err.message : String(err);
  switch (step) {
    case 'embedded-redis':
      if (/redis-server not found/.test(message)) return 'install redis-server, or set REDIS_URL to an existing Redis';
      if (/append ?only|AOF/i.test(message))
        return `the append-only file under ${s.dataDir}/redis is damaged: copy that directory aside, then repair it with \`redis-check-aof --fix <file>\` (the file redis-server names above)`;
      return `see redis-server's output above; check that ${s.dataDir} is writable and the disk has room, or set REDIS_URL to an existing Redis`;
    case 'redis':
      return s.embedded
        ? `the embedded Redis recorded in ${s.dataDir}/redis.url does not answer: stop whatever still uses that DATA_DIR, or delete redis.url and start again`
        : 'check that the Redis named by REDIS_URL (or the sentinels of REDIS_SENTINELS, or the nodes of REDIS_CLUSTER_NODES) is running, reachable from here, and accepts the credentials (REDIS_USERNAME/REDIS_PASSWORD, or the URL\'s)';
    case 'durability':
      return 'make the Redis side match DURABILITY as the message says (docs/durability.md), choose another DURABILITY, or set DURABILITY_CHECK=skip if you assert it yourself';
    case 'default-tenant':
      return `the data under KEY_PREFIX "${s.keyPrefix}" is not licensegate's (or is damaged): point KEY_PREFIX or REDIS_URL at licensegate's data, or at an empty Redis`;
    case 'tls':
      return 'make TLS_CERT_FILE and TLS_KEY_FILE (and TLS_CA_FILE) readable PEM files, the key matching the certificate (docs/tls.md)';
    case 'gateway':
      return portRecovery('GATEWAY_PORT', s.gatewayHost, s.gatewayPort, systemCode(err));
    case 'health':
      return portRecovery('HTTP_PORT', s.gatewayHost, s.httpPort, systemCode(err));
    case 'console':
      return 'the web console\'s sources (console/src) do not build: restore them from the release (git checkout console), or set CONSOLE=off to serve without the console';
  }
}

/** Wraps a failure of one start-up step into a StartupError naming the recovery. */
export function startupFailure(step: StartupStep, err: unknown, settings: StartupSettings): StartupError {
  if (err instanceof StartupError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const expected = err instanceof LicensegateError || systemCode(err) !== undefined || (err as Error | null)?.name === 'ReplyError' || step === 'embedded-redis' || step === 'redis' || step === 'durability' || step === 'console';
  return new StartupError(step, message, recoveryOf(step, err, settings), expected, err);
}
