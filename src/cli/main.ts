/**
 * The `licensegate` command. Subcommands: `serve` (gateway with embedded Redis by default).
 * The CLI is the one place that writes to the console; components log through pino.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { StartupError } from '../startup-error.ts';
import { runKeys } from './keys-command.ts';
import { reloadOnHangup } from './reload-signal.ts';
import { stopOnSignals } from './shutdown.ts';

const USAGE = `usage: licensegate <command>

commands:
  serve     run the gateway (embedded redis-server when REDIS_URL is unset)
  keys      vendor key pair, mint and inspect serial keys (licensegate keys --help)
  admin     licensing administration: serial keys, tenants, Clients, PAM seats (licensegate admin --help)

Configuration is read from the environment; see the README's configuration table.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'serve') return runServe(rest);
  if (command === 'keys') return runKeys(rest);
  if (command === 'admin') return (await import('./admin-command.ts')).runAdmin(rest); // loaded only for admin
  console.error(`licensegate: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

async function runServe(args: string[]): Promise<number> {
  try {
    parseArgs({ args, options: {}, strict: true, allowPositionals: false });
  } catch (err) {
    console.error(`licensegate serve: ${(err as Error).message}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`licensegate: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel, config.logFormat);
  let service;
  try {
    const { serve } = await import('../serve.ts'); // loaded only for serve: other commands start fast
    service = await serve(config, logger);
  } catch (err) {
    if (err instanceof StartupError) {
      // Expected conditions get their step and recovery, not a stack trace (issue 8 item 11).
      logger.fatal({ step: err.step, recovery: err.recovery, ...(err.expected ? {} : { err: err.cause }) }, err.message);
      console.error(`licensegate: ${err.message}\n  to recover: ${err.recovery}`);
      return 1;
    }
    logger.fatal({ err }, 'start-up failed');
    console.error(`licensegate: start-up failed: ${(err as Error).message}`);
    return 1;
  }
  // Signal handlers first: a supervisor may send SIGTERM the moment it reads the ready line.
  const stopped = stopOnSignals(service, config.drainSeconds > 0 ? config.drainNoticeMs + config.drainSeconds * 1000 : undefined, logger);
  reloadOnHangup(service, logger); // SPEC Z1: SIGHUP rereads the TLS files
  // An existing enrollment token is never printed (only its hash is stored, SPEC Z2); the one
  // the first zero-config start made is, this once.
  // One write: whoever reads the ready line gets the notice with it.
  const token = service.enrollmentToken === undefined ? '' : ` enrollment-token=${service.enrollmentToken}`;
  const notice =
    service.enrollmentToken === undefined
      ? ''
      : '\nlicensegate: the enrollment token above is new and will not be shown again (only its hash is kept); store it now. ' +
        'To replace it: licensegate admin tenants rotate-token default [--grace 24h]';
  // SPEC H2: the technician's one-time set-up link, this once (a restart makes a new one while it has no password).
  const setup = service.adminSetupUrl === undefined ? '' : `\nadmin set-up: ${service.adminSetupUrl}\nlicensegate: open the set-up link above once to set the technician's password (valid 24 h), then sign in as technician${service.consoleUrl === undefined ? '' : ` at ${service.consoleUrl}`}`;
  console.log(`licensegate ready ${service.wsUrl} tenant=default${token} health=${service.healthUrl}/healthz node=${service.nodeId}${service.consoleUrl === undefined ? '' : ` console=${service.consoleUrl}`}${notice}${setup}`);
  await stopped;
  logger.flush?.();
  return 0;
}
