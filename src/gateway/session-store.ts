/**
 * What the gateway asks of Redis for a connection: the Hello script (authenticate, register,
 * auto-assign, mark online, replay), acks, disconnects, batched last-seen and uninstall.
 * Turns script status codes into coded LicensegateErrors.
 */
import type { RedisClient } from '../store/redis-connection.ts';
import { hashSecret, newClientCredential } from '../auth/secrets.ts';
import { parseCommandEntry, type ClientCommand, type StreamEntry } from '../delivery/client-command.ts';
import { isErrorCode, LicensegateError } from '../errors.ts';
import { isEndpointLicenseType, type EndpointLicenseType } from '../licensing/license-types.ts';
import { DEFAULT_ENROLL_BURST, DEFAULT_ENROLL_RATE } from '../licensing/tenant-limits.ts';
import type { OsFacts } from '../licensing/os-license-map.ts';
import type { HelloMessage } from '../protocol/client-message.ts';
import type { Keys } from '../store/keys.ts';
import { queueScript, runScript, type ScriptName } from '../store/scripts.ts';
import { pipelineBySlot } from '../store/slot-routing.ts';
import { TurnBatcher } from '../store/turn-batcher.ts';

export interface HelloInput {
  hello: HelloMessage;
  os: OsFacts;
  wantType: EndpointLicenseType | null;
  connToken: string;
  now: number;
  maxReplay: number;
}

export interface HelloOutcome {
  /** The new credential when this Hello registered the Client. */
  credential?: string;
  licenseType: EndpointLicenseType | null;
  reason: string;
  /** Connection token that held the Client before this one ('' if none). */
  previousConn: string;
  acked: number;
  /** A Client whose license the reclaim policy took for this one (C11), else ''. */
  reclaimed: string;
  /** The agent has shown it holds its credential; until then it may enroll again (lost Welcome). */
  confirmed: boolean;
  /**
   * The Client was uninstalled by an admin while away and this is its revoked credential
   * (SPEC C8, F4): it is served unlicensed only to be told; the replay ends with its Uninstall.
   */
  uninstalled: boolean;
  /** This connection's epoch: which of the Client's connections is newer (includes/presence.lua). */
  epoch: number;
  replay: ClientCommand[];
}

export interface AckOutcome {
  acked: number;
  /** The ack covered the Uninstall of an uninstalled Client: close the connection (C8). */
  uninstalled: boolean;
}

/** One Client to mark offline; lastSeen omitted: Redis TIME. */
export interface DisconnectEntry {
  tenantId: string;
  clientId: string;
  connToken: string;
  lastSeen?: number;
}

/** What reregister-1.lua did with one live connection. */
export type ReregisterResult = 'held' | 'added' | 'superseded' | 'gone';
const REREGISTER_RESULTS: ReadonlySet<ReregisterResult> = new Set(['held', 'added', 'superseded', 'gone']);

/**
 * The enrollment limits a tenant without its own (tenant hash fields enrollRate/enrollBurst)
 * gets (SPEC Z3, src/licensing/tenant-limits.ts).
 */
export interface EnrollDefaults {
  /** New registrations per second, per tenant. */
  rate: number;
  /** Registrations a tenant may make at once (the bucket's size; it starts full). */
  burst: number;
}

/** A refused Hello from hello-1.lua's reply: its code, with the retry hint it carries. */
function helloScriptRefusal(reply: unknown[]): LicensegateError {
  if (reply[0] === 'ENROLLMENT_PROOF_MISMATCH') return new LicensegateError('AUTH_FAILED', 'enrollment proof does not match the one the client id registered with');
  if (reply[0] === 'ENROLL_RATE_LIMITED') return new LicensegateError('ENROLL_RATE_LIMITED', undefined, { retryAfterMs: Math.max(1, Number(reply[1]) || 0) });
  return codedError(reply[0]);
}

function codedError(status: unknown, detail?: string): LicensegateError {
  const code = String(status);
  return isErrorCode(code) ? new LicensegateError(code, detail) : new LicensegateError('INTERNAL_ERROR', `script returned ${code}`);
}

export class SessionStore {
  /**
   * What agents' frames trigger (Hello and its claim, confirms, acks, disconnects, uninstalls)
   * goes out once per turn, in the order it was issued; only the periodic last-seen flush
   * writes directly.
   */
  private readonly batch: TurnBatcher;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly enrollDefaults: EnrollDefaults = { rate: DEFAULT_ENROLL_RATE, burst: DEFAULT_ENROLL_BURST },
  ) {
    this.batch = new TurnBatcher(redis);
  }

  private script(name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.batch.run(keys[0]!, (p) => queueScript(p, name, keys, args));
  }

  async hello(input: HelloInput): Promise<HelloOutcome> {
    const { hello } = input;
    const enrolling = hello.auth.kind === 'enrollmentToken';
    const credential = enrolling ? newClientCredential() : undefined;
    let claimed = false;
    if (enrolling) {
      // A client id lives in one tenant: claim it globally before registering (SPEC C2). A new
      // claim costs one command and the enrollment two round trips, claim then script; only an
      // id claimed already (a retry after a lost Welcome, or another tenant's id) reads its owner,
      // a third. The script cannot run alongside: the claim decides whether it may register at
      // all, and it lives in another slot (docs/redis-modes.md).
      const claimKey = this.keys.clientTenant();
      claimed = (await this.batch.run<number>(claimKey, (p) => p.hsetnx(claimKey, hello.clientId, hello.tenantId))) === 1;
      if (!claimed) {
        const owner = await this.batch.run<string | null>(claimKey, (p) => p.hget(claimKey, hello.clientId));
        if (owner !== null && owner !== hello.tenantId) throw new LicensegateError('CLIENT_IN_OTHER_TENANT');
      }
    }
    const reply = (await this.script('hello', [this.keys.tenant(hello.tenantId)], [
      this.keys.tenantBase(hello.tenantId),
      hello.clientId,
      enrolling ? 'enroll' : 'auth',
      hashSecret(hello.auth.secret),
      input.wantType ?? '',
      input.now,
      input.connToken,
      hello.hostname,
      input.os.family,
      input.os.productType,
      input.os.multiSession ? '1' : '0',
      input.os.cloudProvider,
      hello.os.version,
      hello.agentVersion,
      hello.nonPersistent ? '1' : '0',
      hello.lastAckedSeq,
      credential ? hashSecret(credential) : '',
      input.maxReplay,
      // Z3: only its hash leaves this process; only enrollments carry one.
      enrolling && hello.enrollmentProof !== '' ? hashSecret(hello.enrollmentProof) : '',
      this.enrollDefaults.rate,
      this.enrollDefaults.burst,
    ])) as unknown[];
    if (reply[0] !== 'OK') {
      // Undo our own claim so a refused enrollment leaves nothing behind.
      if (claimed && (await this.redis.exists(this.keys.client(hello.tenantId, hello.clientId))) === 0) {
        await this.redis.hdel(this.keys.clientTenant(), hello.clientId);
      }
      throw helloScriptRefusal(reply);
    }
    const held = String(reply[2]);
    return {
      ...(reply[1] === 1 ? { credential: credential! } : {}),
      licenseType: isEndpointLicenseType(held) ? held : null,
      reason: String(reply[3]),
      previousConn: String(reply[4]),
      acked: Number(reply[5]),
      reclaimed: String(reply[6]),
      confirmed: reply[7] === 1,
      uninstalled: reply[8] === 1,
      epoch: Number(reply[9]),
      replay: (reply.slice(10) as StreamEntry[]).map(parseCommandEntry),
    };
  }

  /** Records that the agent has its credential (it sent a frame after its Welcome). */
  async confirm(tenantId: string, clientId: string): Promise<void> {
    const key = this.keys.client(tenantId, clientId);
    await this.batch.run(key, (p) => p.hset(key, 'confirmed', '1'));
  }

  /**
   * Records the agent's ack up to seq. An ack of an uninstalled Client's Uninstall also records
   * it offline when `connToken` still holds it (the caller closes that connection).
   */
  async ack(tenantId: string, clientId: string, seq: number, connToken: string): Promise<AckOutcome> {
    const reply = (await this.script('ack', [this.keys.tenant(tenantId)], [this.keys.tenantBase(tenantId), clientId, seq, connToken])) as unknown[];
    if (reply[0] !== 'OK') throw codedError(reply[0], `seq ${seq}`);
    return { acked: Number(reply[1]), uninstalled: reply[2] === 1 };
  }

  /**
   * Marks offline if connToken still holds the Client; returns whether it went offline. Clients
   * promoted to a license a non-persistent Client freed (C12) are rung by the script.
   * lastSeen: omitted, the script stamps Redis TIME (SPEC F1: no host clock orders presence).
   */
  async disconnect(tenantId: string, clientId: string, connToken: string, lastSeen?: number): Promise<boolean> {
    const reply = (await this.script('disconnect', [this.keys.tenant(tenantId)], [this.keys.tenantBase(tenantId), clientId, connToken, lastSeen ?? ''])) as unknown[];
    return reply[0] === 1;
  }

  /**
   * Many disconnects in one round trip (shutdown, reaping a dead node, reconciliation): one
   * pipeline on a single Redis, one per tenant slot on a Cluster (entries may mix tenants).
   */
  async disconnectMany(entries: DisconnectEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await pipelineBySlot(this.redis, entries, (e) => this.keys.tenant(e.tenantId), (pipeline, e) => {
      queueScript(pipeline, 'disconnect', [this.keys.tenant(e.tenantId)], [this.keys.tenantBase(e.tenantId), e.clientId, e.connToken, e.lastSeen ?? '']);
    });
  }

  /**
   * Re-registers live connections of one tenant (SPEC F1, C5), decided by connection epochs:
   * see reregister-1.lua. One reply per connection, in order.
   */
  async reregister(tenantId: string, pairs: { clientId: string; connToken: string; epoch: number }[]): Promise<ReregisterResult[]> {
    if (pairs.length === 0) return [];
    const args: (string | number)[] = [this.keys.tenantBase(tenantId)];
    for (const p of pairs) args.push(p.clientId, p.connToken, p.epoch);
    const reply = (await runScript(this.redis, 'reregister', [this.keys.tenant(tenantId)], args)) as string[];
    return reply.map((r) => (REREGISTER_RESULTS.has(r as ReregisterResult) ? (r as ReregisterResult) : 'gone'));
  }

  /**
   * Batched last-seen: one script call per tenant per chunk of ids. Chunks go one after the
   * other, never as one pipeline: Redis runs a client's pipelined commands back to back, so a
   * flush of 10,000 heartbeats sent at once would hold every other client (an unassign on its
   * way to StopMonitoring) for tens of ms. Returns each Client's newest command seq (tenant →
   * client → seq) for lost-doorbell repair. now: omitted, the script stamps Redis TIME (F1).
   */
  async touch(byTenant: Map<string, string[]>, now?: number, chunk = 100): Promise<Map<string, Map<string, number>>> {
    const seqs = new Map<string, Map<string, number>>();
    for (const [tenantId, ids] of byTenant) {
      const m = new Map<string, number>();
      seqs.set(tenantId, m);
      for (let i = 0; i < ids.length; i += chunk) {
        const part = ids.slice(i, i + chunk);
        const reply = (await runScript(this.redis, 'touch', [this.keys.tenant(tenantId)], [this.keys.tenantBase(tenantId), now ?? '', ...part])) as unknown[];
        part.forEach((id, j) => m.set(id, Number(reply[j] ?? 0)));
      }
    }
    return seqs;
  }

  /**
   * Uninstalls a Client (SPEC C8). `byAgent`: the agent said so (UninstallNotice); otherwise an
   * admin did and the agent is sent Command{uninstall}. Returns the freed type; the script rings
   * the Clients promoted to it.
   */
  async uninstall(tenantId: string, clientId: string, now: number, opts: { byAgent: boolean; actor: string; cause: string }): Promise<EndpointLicenseType | null> {
    const reply = (await this.script('uninstall', [this.keys.tenant(tenantId)], [
      this.keys.tenantBase(tenantId),
      clientId,
      now,
      opts.actor,
      opts.cause,
      opts.byAgent ? '0' : '1',
    ])) as unknown[];
    if (reply[0] !== 'OK') throw codedError(reply[0]);
    const freed = String(reply[1]);
    return isEndpointLicenseType(freed) ? freed : null;
  }
}
