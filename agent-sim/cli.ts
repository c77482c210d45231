/**
 * The `agent-sim` command: a fleet simulator for load-testing a licensegate gateway. Parses the
 * command line (exit 2 with a one-line error when it is wrong), then runs the simulation; with
 * the hidden WORKER_FLAG it is one of a parent simulator's worker processes instead.
 */
import { parseOptions, USAGE, UsageError, WORKER_FLAG } from './options.ts';
import { PreflightError, runSimulation } from './run.ts';
import { runWorker } from './worker.ts';

/** Runs the command for `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === WORKER_FLAG) return runWorker();
  let command;
  try {
    command = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`agent-sim: ${err.message} (see --help)\n`);
    return 2;
  }
  if (command.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    return await runSimulation(command.options, { stdout: process.stdout, stderr: process.stderr });
  } catch (err) {
    if (!(err instanceof PreflightError)) throw err;
    process.stderr.write(`agent-sim: ${err.message}\n`);
    return 2;
  }
}
