/**
 * The Hello flow of one connection, once admission has given it a handshake slot (C13): the
 * tenant's doorbell, the Hello script (register, license, replay: C2, C3, C7), the Welcome and
 * the take-over of the Client's previous connection (C5), or the masked refusal (Z3).
 *
 * Split from GatewayServer because it is one concept with its own ordering rules (see the
 * comments in authenticate). It owns no state: everything it reads or changes is the server's,
 * handed over explicitly as a HelloFlowContext.
 */
import type { Logger } from 'pino';
import { wallClock } from '../clock.ts';
import { nodeOfConn, type NodeMessage } from '../delivery/node-message.ts';
import { LicensegateError } from '../errors.ts';
import { licenseTypeForOs } from '../licensing/os-license-map.ts';
import type { HelloMessage } from '../protocol/client-message.ts';
import { encodeWelcome } from '../protocol/encode-server-frame.ts';
import type { Admission } from './admission.ts';
import type { AgentConnection } from './agent-connection.ts';
import type { CommandDelivery } from './command-delivery.ts';
import type { DoorbellChannels } from './doorbell-channels.ts';
import type { ResolvedGatewayOptions } from './gateway-options.ts';
import { helloRefusal, maskForPeer } from './hello-refusal.ts';
import type { PeerGuard } from './peer-guard.ts';
import type { HelloOutcome, SessionStore } from './session-store.ts';
import { licenseTypeToWire, osFactsFromReport } from './wire-mapping.ts';

/** What the Hello flow uses of the gateway (GatewayServer): its parts, its maps, two helpers. */
export interface HelloFlowContext {
  readonly options: ResolvedGatewayOptions;
  readonly nodeId: string;
  readonly sessions: SessionStore;
  readonly delivery: CommandDelivery;
  /** The node's doorbell subscriptions, per tenant (sharded pub/sub). */
  readonly doorbells: DoorbellChannels;
  /** Tenant of each connection that holds a doorbell subscription, by token. */
  readonly ringing: Map<string, string>;
  /** Open connections (any state) by token. */
  readonly connections: ReadonlyMap<string, AgentConnection>;
  /** Live connections by tenant + client id. */
  readonly byClient: Map<string, AgentConnection>;
  /** Tokens of authenticating connections a newer connection on another node already replaced. */
  readonly supersededEarly: Set<string>;
  readonly peers: PeerGuard;
  readonly admission: Admission;
  readonly log: Logger;
  /** Logs the refusal and closes the connection with it. */
  reject(conn: AgentConnection, err: LicensegateError): void;
  /** OVERLOADED with a spread retry hint (C13), long when the process is full. */
  overloaded(detail: string, full?: boolean): LicensegateError;
}

export class HelloFlow {
  constructor(private readonly ctx: HelloFlowContext) {}

  async authenticate(conn: AgentConnection, hello: HelloMessage): Promise<void> {
    const ctx = this.ctx;
    const metrics = ctx.options.metrics;
    conn.state = 'authenticating';
    conn.identify(hello.tenantId, hello.clientId);
    conn.nonPersistent = hello.nonPersistent;
    const os = osFactsFromReport(hello.os);
    const wantType = licenseTypeForOs(os, ctx.options.osLicenseMap);
    let outcome;
    try {
      // The tenant's doorbell is subscribed before this Hello can record the connection online,
      // so no doorbell rung for it is missed (doorbell-channels.ts).
      if (!ctx.ringing.has(conn.token)) {
        await ctx.doorbells.acquire(hello.tenantId);
        if (!ctx.connections.has(conn.token)) ctx.doorbells.release(hello.tenantId); // it closed meanwhile
        else ctx.ringing.set(conn.token, hello.tenantId);
      }
      const t0 = metrics.enabled ? performance.now() : 0;
      outcome = await ctx.sessions.hello({ hello, os, wantType, connToken: conn.token, now: wallClock(), maxReplay: ctx.options.maxReplay });
      if (metrics.enabled) {
        metrics.redisRoundTrip('hello', (performance.now() - t0) / 1000);
        metrics.handshake('welcome', hello.auth.kind === 'enrollmentToken', outcome.credential !== undefined);
      }
    } catch (err) {
      metrics.handshake('refused', hello.auth.kind === 'enrollmentToken', false);
      // The script may have run and recorded this connection online although we got no reply
      // (lost on a Redis reconnect, whose resent script then refused): nothing else would ever
      // remove that record while this node lives, and the agent would get ENROLLMENT_PENDING on
      // every retry. Remove it (token-guarded: only if this connection holds it), queued before
      // the refusal goes out, so a retry on this node is ordered after it (F1, C4).
      this.releaseRecord(conn);
      const refusal = helloRefusal(err, () => ctx.admission.retryAfter(Date.now()));
      ctx.peers.helloRefused(conn, hello.tenantId, refusal.code);
      // Z3: the peer has not authenticated; it learns no tenant's or client id's existence.
      return ctx.reject(conn, maskForPeer(refusal));
    }
    if (ctx.supersededEarly.delete(conn.token)) {
      // A newer connection on another node took the Client while our Hello was running (its
      // supersede beat our reply here): it holds the record; this one never goes live (C5).
      conn.log.info('superseded by a newer connection on another node before going live');
      if (conn.isOpen) conn.fail('SUPERSEDED');
      return;
    }
    if (conn.state !== 'authenticating' || !conn.isOpen) {
      // The agent left while we registered it: record it offline again.
      this.releaseRecord(conn);
      return;
    }
    try {
      this.goLive(conn, hello, outcome);
    } catch (err) {
      this.releaseRecord(conn);
      ctx.reject(conn, new LicensegateError('INTERNAL_ERROR', undefined, { cause: err }));
    }
  }

  /** Token-guarded removal of the online record a failed or abandoned Hello may have left. */
  private releaseRecord(conn: AgentConnection): void {
    this.ctx.sessions.disconnect(conn.tenantId, conn.clientId, conn.token).catch((err: unknown) => conn.log.error({ err }, 'could not release the online record; reconciliation will'));
  }

  private goLive(conn: AgentConnection, hello: HelloMessage, outcome: HelloOutcome): void {
    const ctx = this.ctx;
    this.takeOver(conn, outcome.previousConn);
    conn.state = 'live';
    conn.lastFrameAt = Date.now();
    conn.seenDirty = false; // Hello itself does not prove the Welcome arrived
    conn.confirmPending = !outcome.confirmed;
    conn.lastSentSeq = outcome.acked;
    conn.epoch = outcome.epoch;
    // SPEC F5: hello() resolved, so its writes are durable in the DURABILITY mode (TurnBatcher).
    conn.send(
      encodeWelcome({
        clientId: hello.clientId,
        clientCredential: outcome.credential,
        licensed: outcome.licenseType !== null,
        licenseType: licenseTypeToWire(outcome.licenseType),
        reason: outcome.reason,
        heartbeatIntervalMs: ctx.options.heartbeatIntervalMs,
      }),
    );
    ctx.delivery.send(conn, outcome.replay);
    // Served only to be told it was uninstalled (F4): it goes when it has acknowledged that.
    if (outcome.uninstalled) ctx.delivery.awaitUninstallAck(conn);
    if (conn.overflow) {
      // At connection capacity: the agent knows its license (and credential) now; it comes back
      // after the hint. Closing marks it offline like any disconnect.
      conn.fail(ctx.overloaded('connection capacity reached; license state sent', true));
      return;
    }
    if (ctx.log.isLevelEnabled('debug')) conn.log.debug({ registered: outcome.credential !== undefined, license: outcome.licenseType, reason: outcome.reason, replayed: outcome.replay.length }, 'agent online');
    // More than maxReplay commands pending: continue from the log.
    if (outcome.replay.length >= ctx.options.maxReplay) void ctx.delivery.deliver(conn);
  }

  /** SPEC C5: the newest valid connection of a Client wins; the previous one is told why. */
  private takeOver(conn: AgentConnection, previousConn: string): void {
    const ctx = this.ctx;
    const key = conn.key;
    const local = ctx.byClient.get(key);
    ctx.byClient.set(key, conn);
    if (local && local !== conn) {
      local.state = 'closed';
      local.log.info('superseded by a newer connection');
      local.fail('SUPERSEDED');
    }
    if (previousConn && previousConn !== conn.token) {
      const node = nodeOfConn(previousConn);
      if (node !== ctx.nodeId) {
        const msg: NodeMessage = { t: 'supersede', tenant: conn.tenantId, client: conn.clientId, conn: previousConn };
        ctx.options.metrics.doorbellSent();
        ctx.options.redis.spublish(ctx.options.keys.doorbellChannel(conn.tenantId, node), JSON.stringify(msg)).catch((err: unknown) => ctx.log.error({ err }, 'supersede publish failed'));
      }
    }
  }
}
