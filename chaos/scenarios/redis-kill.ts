/**
 * (c) kill -9 redis-server mid-storm and restart it from its AOF, once per durability mode.
 *
 * - `always`: Redis is killed and restarted from its AOF; nothing acknowledged may be lost.
 * - `everysec`: Redis documents a loss window of about a second (two at worst) — on a power
 *   loss; a SIGKILL alone leaves the written AOF in the page cache and loses almost nothing.
 *   So the crash is made to lose what everysec may lose: the AOF is copied 1 s before the
 *   kill and Redis restarts from that copy. What was acknowledged in the 2 s before the crash
 *   may be gone, and findings caused by exactly that are reported as excused — never findings
 *   that no data loss excuses (seqs that go backwards or repeat, F4; presence that does not
 *   heal; a broken invariant).
 */
import type { AppendFsync } from '../lib/redis-server.ts';
import type { ScenarioDef } from '../lib/scenario.ts';
import { runStormScenario } from '../lib/storm.ts';

/** Redis's documented worst case for `appendfsync everysec`. */
export const EVERYSEC_LOSS_WINDOW_MS = 2_000;
const DOWN_MS = 1_000;
/** How much the everysec crash loses (within the documented window). */
const LOST_MS = 1_000;

function redisKill(mode: AppendFsync): ScenarioDef {
  return {
    name: `c-redis-kill-${mode}`,
    title: `kill -9 redis-server mid-storm, restart from its AOF (appendfsync ${mode})`,
    quick: true,
    timeoutMs: (s) => 120_000 + s.boundMs + s.settleMs,
    run: (ctx) =>
      runStormScenario(ctx, {
        gateways: [{ name: 'g1' }, { name: 'g2' }],
        appendfsync: mode,
        // The durability option of the gateway (issue 8): acknowledge only what is durable.
        env: { DURABILITY: mode },
        async inject({ stack, fleet }) {
          const pid = stack.redis.pid;
          let restart: () => Promise<void> = () => stack.redis.launch();
          let lost = '';
          if (mode === 'everysec') {
            const snapshot = stack.redis.snapshotAof();
            restart = () => stack.redis.restartFrom(snapshot);
            lost = ` as it was ${LOST_MS} ms before the crash`;
            await new Promise((r) => setTimeout(r, LOST_MS));
          } else {
            await new Promise((r) => setTimeout(r, 500)); // into the thick of the storm
          }
          const crashAt = fleet.now();
          await stack.redis.kill();
          await new Promise((r) => setTimeout(r, DOWN_MS));
          await restart();
          return {
            fault: `kill -9 redis-server (pid ${pid}), restarted from its AOF${lost} after ${DOWN_MS} ms (pid ${stack.redis.pid})`,
            lossWindow:
              mode === 'everysec'
                ? { from: crashAt - EVERYSEC_LOSS_WINDOW_MS, to: crashAt, why: `appendfsync everysec: acknowledged in the ${EVERYSEC_LOSS_WINDOW_MS} ms before the crash` }
                : null,
            details: { crashAtMs: crashAt, downMs: DOWN_MS },
          };
        },
      }),
  };
}

export const redisKillEverysec = redisKill('everysec');
export const redisKillAlways = redisKill('always');
