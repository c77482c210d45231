/**
 * One gateway node: accepts agent WebSockets, runs the handshake (SPEC C1, C2), registers and
 * licenses on first connect (C3), tracks presence (C4), replaces duplicate connections (C5),
 * delivers the command log (C7) and refuses bad input without harming anything else (R2).
 * Stateless apart from the sockets it holds: all licensing state lives in Redis.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { wallClock } from '../clock.ts';
import { parseNodeMessage } from '../delivery/node-message.ts';
import { LicensegateError, toLicensegateError } from '../errors.ts';
import type { HelloMessage } from '../protocol/client-message.ts';
import { decodeClientFrame } from '../protocol/decode-client-frame.ts';
import { Admission } from './admission.ts';
import { AgentConnection, connectionKey } from './agent-connection.ts';
import { CommandDelivery } from './command-delivery.ts';
import { drainRefusal, handOver, runDrain, type DrainPlan, type DrainReport } from './drain.ts';
import { DoorbellChannels } from './doorbell-channels.ts';
import { flushLastSeen } from './last-seen-flush.ts';
import { HelloAdmission } from './hello-admission.ts';
import { HelloFlow } from './hello-flow.ts';
import { HelloQueue } from './hello-queue.ts';
import { listen } from './listener.ts';
import type { HttpOrHttpsServer } from './tls-context.ts';
import { PeriodicTasks, withTimeout } from './periodic-tasks.ts';
import { resolveGatewayOptions, type GatewayOptions, type ResolvedGatewayOptions } from './gateway-options.ts';
import { newNodeId, NodeRegistry } from './node-registry.ts';
import { PresenceKeeper } from './presence-keeper.ts';
import { PresenceReconciler } from './presence-reconciler.ts';
import { SessionStore, type DisconnectEntry } from './session-store.ts';
import { PeerGuard } from './peer-guard.ts';
import type { SourceLimits } from './source-limits.ts';
import { CLOSE_LINGER_MS } from './unauthenticated-sockets.ts';

export class GatewayServer {
  readonly options: ResolvedGatewayOptions;
  readonly nodeId: string;
  private readonly sessions: SessionStore;
  private readonly delivery: CommandDelivery;
  private readonly registry: NodeRegistry;
  private readonly presence: PresenceKeeper;
  /** Open connections (any state) by token. */
  private readonly connections = new Map<string, AgentConnection>();
  /** Live connections by tenant + client id. */
  private readonly byClient = new Map<string, AgentConnection>();
  /**
   * Tokens of connections still authenticating that a newer connection on another node has
   * already replaced (its supersede arrived before our Hello reply): they never go live (C5).
   */
  private readonly supersededEarly = new Set<string>();
  private http: HttpOrHttpsServer | undefined;
  private wss: WebSocketServer | undefined;
  /** The node's doorbell subscriptions, per tenant (sharded pub/sub). */
  private readonly doorbells: DoorbellChannels;
  /** Tenant of each connection that holds a doorbell subscription, by token. */
  private readonly ringing = new Map<string, string>();
  private readonly tasks: PeriodicTasks;
  private nextConnId = 1;
  private stopping = false;
  /** Handing agents to the other gateways (SPEC X4): not ready, new Hellos refused. */
  private drainStarted = false;
  readonly admission: Admission;
  /** Hellos waiting for a handshake slot (C13), by connection. */
  readonly hellos: HelloQueue<AgentConnection, HelloMessage>;
  private readonly helloAdmission: HelloAdmission;
  /** Doorbell, Hello script, Welcome or refusal of each admitted Hello (hello-flow.ts). */
  private readonly helloFlow: HelloFlow;
  /** Bounds and audit of peers that have not authenticated (SPEC Z3, Z4). */
  private readonly peers: PeerGuard;

  constructor(options: GatewayOptions) {
    this.options = resolveGatewayOptions(options, newNodeId);
    this.nodeId = this.options.nodeId;
    this.sessions = new SessionStore(this.options.redis, this.options.keys, { rate: this.options.enrollRate, burst: this.options.enrollBurst });
    this.peers = new PeerGuard(this.options, this.options.logger);
    this.tasks = new PeriodicTasks(this.options.logger);
    this.delivery = new CommandDelivery({ redis: this.options.redis, keys: this.options.keys, maxReplay: this.options.maxReplay, heartbeatIntervalMs: this.options.heartbeatIntervalMs, metrics: this.options.metrics });
    const o = this.options;
    this.admission = new Admission({
      maxHandshakes: o.maxHandshakes,
      maxEnrollments: o.maxEnrollments,
      maxConnections: o.maxConnections,
      retryBaseMs: o.retryBaseMs,
      retryMaxMs: o.retryMaxMs,
    });
    this.hellos = new HelloQueue(o.helloQueueMax, o.helloQueueWaitMs);
    this.helloAdmission = new HelloAdmission(this.admission, this.hellos, (conn, hello) => this.helloFlow.authenticate(conn, hello));
    this.registry = new NodeRegistry(this.options.redis, this.options.keys, this.sessions, this.nodeId, this.options.nodeTimeoutMs);
    const reconciler = new PresenceReconciler(this.options.redis, this.options.keys, this.sessions, this.nodeId, {
      connections: this.connections,
      byClient: this.byClient,
      supersede: (conn, why) => this.supersede(conn, why),
    }, this.log, this.options.reconcileIntervalMs);
    this.presence = new PresenceKeeper(this.registry, reconciler, this.options.nodeTimeoutMs, this.log);
    this.doorbells = new DoorbellChannels(this.options.redis, this.options.keys, this.nodeId, (raw) => this.onNodeMessage(raw), this.log);
    this.helloFlow = new HelloFlow({
      options: o, nodeId: this.nodeId, sessions: this.sessions, delivery: this.delivery, doorbells: this.doorbells,
      ringing: this.ringing, connections: this.connections, byClient: this.byClient, supersededEarly: this.supersededEarly,
      peers: this.peers, admission: this.admission, log: this.log,
      reject: (conn, err) => this.reject(conn, err), overloaded: (detail, full) => this.overloaded(detail, full),
    });
  }

  /** Per-source and per-process counters of unauthenticated peers (SPEC Z4). */
  get sourceLimits(): SourceLimits {
    return this.peers.sourceLimits;
  }

  get log() {
    return this.options.logger;
  }

  /** Number of open agent connections (any state). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Live connections: their Hello succeeded (SPEC H4's authenticated state). */
  get authenticatedCount(): number {
    return this.byClient.size;
  }

  /** Hellos waiting for a handshake slot (C13). */
  get helloQueueDepth(): number {
    return this.hellos.size;
  }

  get draining(): boolean {
    return this.drainStarted && !this.stopping;
  }

  get ready(): boolean {
    return !this.stopping && !this.drainStarted && this.wss !== undefined && this.options.redis.status === 'ready';
  }

  /** Listens and joins the cluster of nodes. Resolves with the bound address. */
  async start(): Promise<AddressInfo> {
    const o = this.options;
    // Doorbells are subscribed per tenant, before that tenant's first Hello here (hello-flow.ts).
    this.doorbells.start();
    await this.presence.livenessRound();

    // ws:// or, with TLS material, wss:// (SPEC Z1): listener.ts. Its sockets are counted from
    // TCP accept, before anything else sees them: over a cap they are destroyed unread (SPEC Z4).
    const listener = await listen({
      host: o.host,
      port: o.port,
      maxPayloadBytes: o.maxPayloadBytes,
      tls: o.tls,
      http: o.http,
      onSocket: this.peers.onSocket,
      logger: this.log,
      onConnection: (ws, req) => this.onConnection(ws, req),
    });
    this.http = listener.server;
    this.wss = listener.wss;

    const sweepMs = Math.max(25, Math.min(o.helloTimeoutMs, o.heartbeatIntervalMs, o.helloQueueWaitMs) / 4);
    this.tasks.everyUnlessStalled(sweepMs, (now) => this.sweep(now));
    this.tasks.every(o.lastSeenFlushMs, () => this.flushLastSeen());
    this.tasks.every(o.nodeHeartbeatMs, () => this.presence.livenessRound());
    this.tasks.every(o.reconcileIntervalMs, () => this.presence.reconcile());
    this.tasks.every(o.reconcileIntervalMs, () => this.doorbells.sweep());
    const address = listener.address;
    this.log.info({ node: this.nodeId, address: `${address.address}:${address.port}` }, 'gateway listening');
    return address;
  }

  /** SPEC Z1: new TLS handshakes use this certificate (a SIGHUP reload); open connections keep theirs. */
  setSecureContext(options: SecureContextOptions): void {
    if (this.http && 'setSecureContext' in this.http) this.http.setSecureContext(options);
  }

  /** SPEC X4: out of rotation at once (ready = false), then the agents go in slices (drain.ts); stop() follows. */
  async drain(plan: DrainPlan, signal?: AbortSignal): Promise<DrainReport> {
    this.drainStarted = true;
    const open = () => [...this.connections.values()].filter((c) => c.state !== 'closed');
    const deferred: DisconnectEntry[] = [];
    return runDrain(
      {
        open,
        closeSlice: (conns, refusal) => handOver(conns, this.byClient, this.sessions, refusal, deferred),
        pendingHandovers: () => deferred.length,
        releaseHandovers: () => this.sessions.disconnectMany(deferred.splice(0)),
      },
      plan,
      this.log,
      signal,
    );
  }

  /** Stops accepting, closes every agent with 1001, records them offline and leaves. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.helloAdmission.stopped = true;
    this.tasks.stopAll();
    this.peers.close();
    const offline: DisconnectEntry[] = [];
    for (const conn of this.connections.values()) {
      if (conn.state === 'live') offline.push({ tenantId: conn.tenantId, clientId: conn.clientId, connToken: conn.token });
      conn.fail('SHUTTING_DOWN');
    }
    this.byClient.clear();
    try {
      await withTimeout(
        (async () => {
          await this.flushLastSeen();
          // Non-persistent Clients freed by this shutdown (C12) may promote Clients held
          // elsewhere: the disconnect script rings their nodes.
          await this.sessions.disconnectMany(offline);
          await this.registry.leave();
        })(),
        5_000,
      );
    } catch (err) {
      this.log.error({ err }, 'could not record shutdown in redis');
    }
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
    if (this.http) {
      this.http.closeAllConnections();
      await new Promise<void>((resolve) => this.http!.close(() => resolve()));
    }
    this.doorbells.stop();
    this.log.info({ node: this.nodeId, closed: offline.length }, 'gateway stopped');
  }

  // --- connections ---

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const o = this.options;
    const rate = { framesPerSecond: o.framesPerSecond, burst: o.frameBurst };
    const conn = new AgentConnection(ws, this.nextConnId++, this.nodeId, Date.now(), rate, this.log, this.peers.clientAddressOf(req));
    const refused = this.peers.admit(conn, req);
    conn.maxSendBufferBytes = o.maxSendBufferBytes;
    conn.metrics = o.metrics;
    if (this.stopping || this.drainStarted) {
      conn.fail(drainRefusal());
      return;
    }
    if (refused) {
      // Behind a trusted proxy the client's share is known only now (X-Forwarded-For).
      conn.fail(refused);
      return;
    }
    if (!this.admission.admitConnection(this.connections.size + 1)) {
      if (!this.admission.admitOverflow(this.connections.size + 1)) {
        conn.fail(this.overloaded('too many connections', true));
        return;
      }
      conn.overflow = true;
    }
    this.connections.set(conn.token, conn);
    ws.on('message', (data: RawData, isBinary: boolean) => this.onFrame(conn, data as Buffer, isBinary));
    ws.on('close', () => this.onClose(conn));
    ws.on('error', (err) => {
      // ws reports protocol violations (bad opcode, payload beyond 2x maxPayload, ...) here
      // and closes the socket itself with the matching code.
      conn.log.info({ err: { message: err.message, code: (err as { code?: string }).code } }, 'websocket protocol error');
    });
  }

  private onFrame(conn: AgentConnection, data: Buffer, isBinary: boolean): void {
    if (conn.state === 'closed') return;
    const now = Date.now();
    conn.lastFrameAt = now;
    conn.seenDirty = true;
    if (!conn.takeToken(now)) return this.reject(conn, new LicensegateError('RATE_LIMITED'));
    if (!isBinary) return this.reject(conn, new LicensegateError('TEXT_FRAME'));
    if (data.length > this.options.maxPayloadBytes) {
      return this.reject(conn, new LicensegateError('FRAME_TOO_LARGE', `${data.length} > ${this.options.maxPayloadBytes} bytes`));
    }
    let msg;
    try {
      msg = decodeClientFrame(data);
    } catch (err) {
      return this.reject(conn, toLicensegateError(err));
    }
    if (conn.confirmPending && conn.state === 'live') {
      conn.confirmPending = false;
      // The first frame after Welcome confirms the credential; an ack records it itself.
      if (msg.kind !== 'commandAck') {
        this.sessions.confirm(conn.tenantId, conn.clientId).catch((err: unknown) => conn.log.error({ err }, 'could not confirm credential'));
      }
    }
    switch (msg.kind) {
      case 'hello': {
        if (conn.state !== 'awaiting-hello') return this.reject(conn, new LicensegateError('HELLO_REPEATED'));
        if (this.drainStarted) return conn.fail(drainRefusal()); // another gateway serves it (X4)
        // An address backed off for failed authentications is refused here, before Redis (Z4).
        const backedOff = this.peers.helloArrived(conn, now);
        if (backedOff) return conn.fail(backedOff);
        this.helloAdmission.offer(conn, msg.hello, now);
        return;
      }
      case 'heartbeat':
        if (conn.state === 'awaiting-hello') return this.reject(conn, new LicensegateError('HELLO_REQUIRED'));
        if (conn.state === 'live') conn.sendHeartbeatAck(wallClock()); // server time as this host tells it (shifted by CLOCK_OFFSET_MS)
        return;
      case 'commandAck':
        if (conn.state !== 'live') return this.reject(conn, new LicensegateError(conn.state === 'awaiting-hello' ? 'HELLO_REQUIRED' : 'INVALID_ACK'));
        void this.acknowledge(conn, msg.seq);
        return;
      case 'uninstallNotice':
        if (conn.state !== 'live') return this.reject(conn, new LicensegateError('HELLO_REQUIRED'));
        void this.uninstallFromAgent(conn);
        return;
    }
  }

  /** OVERLOADED with a spread retry hint (C13), long when the process is full; counted for /readyz. */
  private overloaded(detail: string, full = false): LicensegateError {
    const retryAfterMs = full ? this.admission.retryAfterFull() : this.admission.retryAfter(Date.now());
    return new LicensegateError('OVERLOADED', detail, { retryAfterMs });
  }

  private reject(conn: AgentConnection, err: LicensegateError): void {
    if (err.code === 'INTERNAL_ERROR') conn.log.error({ err: err.cause ?? err }, 'connection failed on a server fault');
    else conn.log.info({ code: err.code, detail: err.message, ...(err.cause instanceof LicensegateError ? { reason: err.cause.code, reasonDetail: err.cause.message } : {}) }, 'connection refused');
    conn.fail(err);
  }

  private async acknowledge(conn: AgentConnection, seq: number): Promise<void> {
    try {
      if (seq > conn.lastSentSeq) throw new LicensegateError('INVALID_ACK', `seq ${seq} was never sent on this connection`);
      const outcome = await this.sessions.ack(conn.tenantId, conn.clientId, seq, conn.token);
      this.delivery.acknowledged(conn, seq);
      // SPEC C8: the agent acknowledged its Uninstall; the script recorded it offline.
      if (outcome.uninstalled && conn.state === 'live') {
        conn.log.info({ seq }, 'agent acknowledged its uninstall');
        if (this.byClient.get(conn.key) === conn) this.byClient.delete(conn.key);
        conn.fail('UNINSTALLED');
      }
    } catch (err) {
      const refusal = toLicensegateError(err);
      // This connection sent that seq, yet Redis has never issued it: Redis lost its last
      // writes (F4). Not the agent's fault: repair the log, keep the connection.
      if (refusal.code === 'INVALID_ACK' && seq <= conn.lastSentSeq) return void this.delivery.repairLostCommands(conn);
      this.reject(conn, refusal);
    }
  }

  private async uninstallFromAgent(conn: AgentConnection): Promise<void> {
    try {
      // The script rings the nodes of Clients promoted to the freed license.
      const freed = await this.sessions.uninstall(conn.tenantId, conn.clientId, Date.now(), { byAgent: true, actor: `client:${conn.clientId}`, cause: 'uninstall-notice' });
      conn.log.info({ freed }, 'agent uninstalled itself');
      this.byClient.delete(conn.key);
      conn.fail('UNINSTALLED');
    } catch (err) {
      this.reject(conn, toLicensegateError(err));
    }
  }

  private onClose(conn: AgentConnection): void {
    conn.state = 'closed';
    this.connections.delete(conn.token);
    this.helloAdmission.remove(conn);
    this.supersededEarly.delete(conn.token);
    const ringing = this.ringing.get(conn.token);
    if (ringing !== undefined) {
      this.ringing.delete(conn.token);
      this.doorbells.release(ringing);
    }
    // Only the Client's current connection (the one in byClient) may mark it offline; a
    // superseded or uninstalled connection was removed from byClient before it was closed.
    if (!conn.clientId || this.byClient.get(conn.key) !== conn) return;
    this.byClient.delete(conn.key);
    if (this.stopping) return;
    this.sessions.disconnect(conn.tenantId, conn.clientId, conn.token).catch((err: unknown) => conn.log.error({ err }, 'could not record disconnect'));
  }

  /** Closes a live connection a newer one replaced; its close leaves the record alone (C5). */
  private supersede(conn: AgentConnection, why: string): void {
    if (this.byClient.get(conn.key) === conn) this.byClient.delete(conn.key);
    conn.log.info({ why }, 'superseded by a newer connection');
    conn.fail('SUPERSEDED');
  }

  // --- periodic work ---

  private sweep(now: number): void {
    const o = this.options;
    const silentLimit = now - 2 * o.heartbeatIntervalMs;
    const helloLimit = now - o.helloTimeoutMs;
    const lingerLimit = now - CLOSE_LINGER_MS;
    this.helloAdmission.expire(now); // queued Hellos are not Hello-less: their state is 'queued'
    this.peers.prune(now);
    for (const conn of this.connections.values()) {
      if (conn.state === 'awaiting-hello' && conn.openedAt < helloLimit) this.reject(conn, new LicensegateError('HELLO_TIMEOUT'));
      else if (conn.state === 'live' && conn.lastFrameAt < silentLimit) this.reject(conn, new LicensegateError('HEARTBEAT_TIMEOUT'));
      // We closed it; a peer that never answers the close frame loses the socket now (Z4).
      else if (conn.state === 'closed' && conn.closingSince > 0 && conn.closingSince < lingerLimit) conn.ws.terminate();
    }
  }

  private flushLastSeen(): Promise<void> {
    return flushLastSeen(this.byClient, this.sessions, this.delivery);
  }

  // --- node channel (doorbell) ---

  private onNodeMessage(raw: string): void {
    const msg = parseNodeMessage(raw);
    if (!msg) {
      this.options.metrics.doorbellReceived('malformed');
      this.log.warn({ raw: raw.slice(0, 200) }, 'ignored malformed node message');
      return;
    }
    this.options.metrics.doorbellReceived(msg.t);
    if (msg.t === 'supersede') {
      // By token, whatever the connection's state: the newer connection's Hello ran after ours,
      // but its supersede can still arrive before our own Hello reply (C5, issue 8 item 10).
      const conn = this.connections.get(msg.conn);
      if (!conn || conn.tenantId !== msg.tenant || conn.clientId !== msg.client) return;
      if (conn.state === 'authenticating') this.supersededEarly.add(conn.token);
      else if (conn.state === 'live') this.supersede(conn, 'a newer connection on another node');
      return;
    }
    for (const clientId of msg.clients) {
      const conn = this.byClient.get(connectionKey(msg.tenant, clientId));
      if (!conn) continue;
      const carried = msg.cmds?.get(clientId);
      if (carried) this.delivery.deliverCarried(conn, carried);
      else void this.delivery.deliver(conn);
    }
  }
}
