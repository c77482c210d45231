/**
 * The worker side of `agent-sim --procs N`: a child process forked by the parent simulator
 * (hidden flag WORKER_FLAG) that runs its share of the fleet and reports over IPC. It never
 * outlives its parent: when the IPC channel closes it disconnects its agents and exits, and it
 * exits by itself WORKER_GRACE_MS after its run should have ended.
 */
import { Fleet, type FleetResult } from './fleet.ts';
import { PROGRESS_INTERVAL_MS, WORKER_GRACE_MS, type FromWorker, type ToWorker } from './ipc.ts';

function send(msg: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(msg, undefined, {}, () => resolve()); // resolves on error too: the parent is gone
  });
}

/** Runs until the fleet's final result is sent (0), or the parent disappears (1). */
export function runWorker(): Promise<number> {
  if (!process.send) {
    process.stderr.write('agent-sim: this flag is for the simulator\'s own worker processes\n');
    return Promise.resolve(2);
  }
  // Ctrl-C reaches the whole process group; the parent decides when and how to stop.
  process.on('SIGINT', () => {});
  return new Promise<number>((resolve) => {
    let fleet: Fleet | null = null;
    let progressTimer: NodeJS.Timeout | null = null;
    let finalSent = false;
    const sendFinal = async (result: FleetResult) => {
      if (progressTimer) clearInterval(progressTimer);
      if (finalSent) return;
      finalSent = true;
      await send({ t: 'final', result });
      resolve(0);
    };
    const stop = () => (fleet ? void fleet.stop().then(sendFinal) : resolve(1));
    process.on('SIGTERM', stop);
    process.on('disconnect', () => {
      if (!fleet) return resolve(1);
      void fleet.stop().then(() => resolve(1));
    });
    process.on('message', (msg: ToWorker) => {
      if (msg.t === 'init' && !fleet) {
        fleet = new Fleet(msg.config, msg.plans);
        setTimeout(() => process.exit(1), msg.config.durationMs + WORKER_GRACE_MS).unref();
        void send({ t: 'ready', agents: fleet.size });
      } else if (msg.t === 'start' && fleet) {
        const running = fleet;
        progressTimer = setInterval(() => void send({ t: 'progress', progress: running.progress() }), PROGRESS_INTERVAL_MS);
        void running.run(msg.startAt).then(sendFinal);
      } else if (msg.t === 'stop') {
        stop();
      }
    });
  });
}
