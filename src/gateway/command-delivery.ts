/**
 * How a gateway node gets a Client's command log onto its live connection (SPEC C7, C8, F4):
 * commands a doorbell carried go out without reading Redis when they continue what the
 * connection was sent; after a gap, a lost doorbell or during a read, the log decides; a log
 * whose stored seq fell below what the connection sent (Redis lost its last writes) is
 * repaired; an Uninstall starts its acknowledgement deadline.
 */
import type { RedisClient } from '../store/redis-connection.ts';
import { readCommandsAfter, type ClientCommand } from '../delivery/client-command.ts';
import { repairLostCommands } from '../delivery/seq-repair.ts';
import type { Keys } from '../store/keys.ts';
import { NOOP_METRICS, type Metrics } from '../metrics/instruments.ts';
import type { AgentConnection } from './agent-connection.ts';

/**
 * An agent told to uninstall (SPEC C8) has this many heartbeat intervals to acknowledge it
 * before the gateway closes the connection anyway: as long as a live agent may stay silent.
 */
export const UNINSTALL_GRACE_HEARTBEATS = 2;

export interface CommandDeliveryOptions {
  redis: RedisClient;
  keys: Keys;
  /** Most commands read from the log at once. */
  maxReplay: number;
  heartbeatIntervalMs: number;
  /** Delivery latency and repairs (SPEC H4). Default NOOP_METRICS. */
  metrics?: Metrics;
}

export class CommandDelivery {
  private readonly metrics: Metrics;

  constructor(private readonly o: CommandDeliveryOptions) {
    this.metrics = o.metrics ?? NOOP_METRICS;
  }

  /**
   * With metrics on, remembers when each command about to go out on a live connection was
   * appended, so that its ack can observe append → ack (SPEC H4). Only live deliveries: a
   * Welcome's replay carries commands appended while the agent was away, whose age says how
   * long it was gone, not how fast delivery is.
   */
  private track(conn: AgentConnection, cmds: ClientCommand[]): void {
    if (!this.metrics.enabled) return;
    for (const cmd of cmds) {
      if (cmd.seq <= conn.lastSentSeq || cmd.appendedAt === undefined) continue;
      (conn.pendingAppends ??= []).push(cmd.seq, cmd.appendedAt);
    }
  }

  /** The agent acknowledged up to `seq`: observes the latency of the tracked commands it covers. */
  acknowledged(conn: AgentConnection, seq: number, now = Date.now()): void {
    const pending = conn.pendingAppends;
    if (pending === undefined) return;
    let keep = 0;
    for (let i = 0; i < pending.length; i += 2) {
      if (pending[i]! <= seq) this.metrics.commandAcked((now - pending[i + 1]!) / 1000);
      else {
        pending[keep++] = pending[i]!;
        pending[keep++] = pending[i + 1]!;
      }
    }
    pending.length = keep;
    if (keep === 0) conn.pendingAppends = undefined;
  }

  /** Sends commands on a live connection; an Uninstall among them starts its ack deadline. */
  send(conn: AgentConnection, cmds: ClientCommand[]): void {
    if (conn.sendCommands(cmds)) this.awaitUninstallAck(conn);
  }

  /**
   * SPEC C8: an agent that does not acknowledge its Uninstall within the grace is closed with
   * UNINSTALLED all the same. It stays the Client's current connection, so its close records
   * the Client offline (token-guarded); the Uninstall stays owed to its credential (F4).
   */
  awaitUninstallAck(conn: AgentConnection): void {
    conn.awaitUninstallAck(UNINSTALL_GRACE_HEARTBEATS * this.o.heartbeatIntervalMs, () => {
      conn.log.info({ seq: conn.uninstallSentSeq }, 'uninstall not acknowledged in time; closing');
      conn.fail('UNINSTALLED');
    });
  }

  /**
   * Sends the commands a doorbell carried, without reading the log, when they continue what
   * this connection was sent; after a gap (a lost doorbell) or during a read, the log decides.
   */
  deliverCarried(conn: AgentConnection, cmds: ClientCommand[]): void {
    if (conn.state !== 'live') return;
    if (conn.delivering || cmds.length === 0 || cmds[0]!.seq > conn.lastSentSeq + 1) {
      void this.deliver(conn);
      return;
    }
    this.track(conn, cmds);
    this.send(conn, cmds);
  }

  /**
   * SPEC F4: the Client's stored seq is below what this connection sent: Redis lost its last
   * writes. The script moves the counter past it and appends the Client's state as Redis holds
   * it; this connection then sends that command.
   */
  async repairLostCommands(conn: AgentConnection): Promise<void> {
    try {
      const seq = await repairLostCommands(this.o.redis, this.o.keys, conn.tenantId, conn.clientId, conn.lastSentSeq);
      if (seq === 0) return;
      this.metrics.seqRepaired();
      conn.log.warn({ sentSeq: conn.lastSentSeq, seq }, 'redis lost commands this connection had sent; restated the license state');
      void this.deliver(conn);
    } catch (err) {
      conn.log.error({ err }, 'could not repair the command log after redis lost writes');
    }
  }

  /** Sends whatever the Client's log holds beyond what this connection sent. */
  async deliver(conn: AgentConnection): Promise<void> {
    if (conn.delivering) {
      conn.deliverAgain = true;
      return;
    }
    conn.delivering = true;
    try {
      do {
        conn.deliverAgain = false;
        const cmds = await readCommandsAfter(this.o.redis, this.o.keys, conn.tenantId, conn.clientId, conn.lastSentSeq, this.o.maxReplay);
        if (conn.state !== 'live') return;
        this.track(conn, cmds);
        this.send(conn, cmds);
        if (cmds.length >= this.o.maxReplay) conn.deliverAgain = true;
      } while (conn.deliverAgain);
    } catch (err) {
      conn.log.error({ err }, 'command delivery failed; the log keeps the commands');
    } finally {
      conn.delivering = false;
    }
  }
}
