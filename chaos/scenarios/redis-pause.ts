/**
 * (d) SIGSTOP redis-server (20 s; quick: longer than NODE_TIMEOUT_MS), then SIGCONT. The whole
 * fleet is connected and stays so: every gateway's liveness beat is late when Redis wakes up,
 * and no healthy node may be declared dead for good nor any live connection stay recorded
 * offline (F1, issue 8 item 1). Neither a reconnect storm nor admin jobs here: agents that
 * reconnect re-register themselves, and an admin client's blocking XREAD changes the order in
 * which the resumed Redis serves its backlog — either hides the reaping race this is about.
 * The pool covers every agent: with Clients waiting the race showed less often (observed over
 * a handful of runs on the 2-core box, not explained).
 */
import { pauseFor } from '../lib/pause.ts';
import type { ScenarioDef } from '../lib/scenario.ts';
import { runStormScenario } from '../lib/storm.ts';

const PAUSES = 2;

export const redisPause: ScenarioDef = {
  name: 'd-redis-pause',
  title: 'SIGSTOP redis-server, then SIGCONT',
  quick: true,
  timeoutMs: (s) => 120_000 + PAUSES * (s.pauseMs + 10_000) + s.boundMs + s.settleMs,
  run: (ctx) =>
    runStormScenario(ctx, {
      gateways: [{ name: 'g1' }, { name: 'g2' }],
      storm: false,
      trickle: false,
      poolShare: 1,
      async inject({ stack, sizes, scope, log }) {
        const pid = stack.redis.pid!;
        // Whether a node reaps another depends on the order in which the resumed Redis serves
        // the backlogs: a race, so the pause is repeated to give it more than one chance.
        for (let i = 0; i < PAUSES; i++) {
          if (i > 0) await new Promise((r) => setTimeout(r, 2 * Number(sizes.env.NODE_HEARTBEAT_MS)));
          await pauseFor(scope, pid, sizes.pauseMs);
          log(`pause ${i + 1}/${PAUSES} over`);
        }
        return { fault: `SIGSTOP redis-server (pid ${pid}) for ${sizes.pauseMs} ms, ${PAUSES} times (NODE_TIMEOUT_MS ${sizes.nodeTimeoutMs})` };
      },
    }),
};
