/**
 * The periodic presence work of one gateway node (SPEC C4, F1), each kind never overlapping
 * itself (a paused Redis would otherwise pile rounds up behind it):
 * - a liveness round every NODE_HEARTBEAT_MS: beat at Redis TIME; after finding this node
 *   reaped, re-register its live connections at every beat for one node timeout (a reap still
 *   in flight elsewhere cannot win); reap dead nodes when this node's own beats were on time;
 * - a reconciliation every RECONCILE_INTERVAL_MS (see presence-reconciler.ts).
 */
import type { Logger } from 'pino';
import type { NodeRegistry } from './node-registry.ts';
import type { PresenceReconciler } from './presence-reconciler.ts';

export class PresenceKeeper {
  /** Until this Redis time (ms) every liveness round re-registers the live connections. */
  private rejoinUntil = 0;
  private beating = false;
  private reconciling = false;

  constructor(
    private readonly registry: NodeRegistry,
    private readonly reconciler: PresenceReconciler,
    private readonly nodeTimeoutMs: number,
    private readonly log: Logger,
  ) {}

  async livenessRound(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const beat = await this.registry.beat();
      if (beat.rejoined) {
        const age = Number.isFinite(beat.previousAgeMs) ? beat.previousAgeMs : null;
        this.log.warn({ node: this.registry.nodeId, previousBeatAgeMs: age }, 'this node was (or could have been) declared dead; re-registering its connections');
        this.rejoinUntil = beat.now + this.nodeTimeoutMs;
      }
      if (beat.now <= this.rejoinUntil) await this.reconciler.reregisterLive();
      if (beat.mayReap && beat.dead.length > 0) {
        const marked = await this.registry.reap(beat.dead);
        this.log.warn({ nodes: beat.dead.map((d) => d.node), marked }, 'reaped gateway nodes that stopped beating');
      }
    } finally {
      this.beating = false;
    }
  }

  async reconcile(): Promise<void> {
    if (this.reconciling) return;
    this.reconciling = true;
    try {
      await this.reconciler.reconcile();
    } finally {
      this.reconciling = false;
    }
  }
}
