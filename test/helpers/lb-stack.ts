/**
 * Several `licensegate serve` processes behind real HAProxy (deploy/haproxy.cfg through
 * chaos/lib/haproxy.ts) on the project's Redis, for the load-balancer tests (SPEC X2, X4).
 * Each gateway slot keeps its ports for the life of the stack, as a real deployment's do, so a
 * restarted gateway comes back at the address HAProxy already checks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scope } from '../../bench/lib/scope.ts';
import { HaproxyProcess } from '../../chaos/lib/haproxy.ts';
import type { LicenseTypeName } from '../../src/licensing/license-types.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { freePort } from '../../src/net/free-port.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { TEST_TOKEN } from './gateway.ts';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.ts';
import { activatePool, ledgerContext } from './ledger.ts';
import { redisEnv, uniquePrefix } from './redis.ts';

/**
 * HAProxy's check timing for tests: a gateway leaves rotation within ~0.3-0.5 s of its first
 * 503 (the shipped 1 s / 500 ms / fall 2 takes ~1.5-2.5 s against DRAIN_NOTICE_MS 3000).
 */
export const FAST_CHECKS = { LG_CHECK_INTER: '200ms', LG_CHECK_FASTINTER: '100ms', LG_CHECK_DOWNINTER: '200ms', LG_CHECK_FALL: '2', LG_CHECK_RISE: '2' };

export interface GatewaySlot {
  name: string;
  wsPort: number;
  httpPort: number;
  proc: GatewayProcess;
}

export interface Readiness {
  status: number;
  connections: number;
}

export interface LbStackOptions {
  gateways: number;
  pool: Partial<Record<LicenseTypeName, number>>;
  /** Gateway environment on top of Redis, prefixes and token (DRAIN_SECONDS, HEARTBEAT_INTERVAL_MS, …). */
  env: Record<string, string>;
}

export class LbStack {
  private constructor(
    readonly keys: Keys,
    readonly slots: GatewaySlot[],
    readonly haproxy: HaproxyProcess,
    private readonly env: Record<string, string>,
    private readonly scope: Scope,
    private readonly dir: string,
  ) {}

  static async start(redis: RedisClient, o: LbStackOptions): Promise<LbStack> {
    const prefix = uniquePrefix('lb');
    const keys = new Keys(prefix, `{${prefix}}`);
    await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
    await activatePool(ledgerContext(redis, keys), o.pool);
    // TRUSTED_PROXIES: HAProxy (on loopback) forwards the agents' addresses (SPEC Z4, docs/abuse-limits.md).
    const env = { ...redisEnv(), KEY_PREFIX: prefix, QUEUE_PREFIX: `{${prefix}}`, ENROLLMENT_TOKEN: TEST_TOKEN, GATEWAY_HOST: '127.0.0.1', TRUSTED_PROXIES: '127.0.0.1', ...o.env };
    const scope = new Scope();
    const dir = mkdtempSync(join(tmpdir(), 'lg-lb-'));
    try {
      const slots = await Promise.all(
        Array.from({ length: o.gateways }, async (_, i) => {
          const wsPort = await freePort();
          const httpPort = await freePort();
          const proc = await startGatewayProcess({ ...env, GATEWAY_PORT: String(wsPort), HTTP_PORT: String(httpPort) });
          return { name: `gw${i + 1}`, wsPort, httpPort, proc };
        }),
      );
      const haproxy = await HaproxyProcess.start(scope, { dir, backends: slots, tunables: FAST_CHECKS });
      return new LbStack(keys, slots, haproxy, env, scope, dir);
    } catch (err) {
      await scope.close();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  get url(): string {
    return this.haproxy.url;
  }

  /** A gateway's own /readyz: 200 or 503, and the connections it holds. */
  async readyz(i: number): Promise<Readiness> {
    const res = await fetch(`http://127.0.0.1:${this.slots[i]!.httpPort}/readyz`);
    const body = (await res.json()) as { connections: number };
    return { status: res.status, connections: body.connections };
  }

  /**
   * One SIGTERM to slot i's gateway (a drain when DRAIN_SECONDS > 0: a second signal would cut
   * it short, so this never sends one); resolves with its exit code once it has exited.
   */
  terminate(i: number): Promise<number | null> {
    const child = this.slots[i]!.proc.child;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    return exited;
  }

  /** Starts slot i's gateway again on the same ports (after it exited). */
  async startAgain(i: number, extraEnv: Record<string, string> = {}): Promise<GatewayProcess> {
    const slot = this.slots[i]!;
    slot.proc = await startGatewayProcess({ ...this.env, GATEWAY_PORT: String(slot.wsPort), HTTP_PORT: String(slot.httpPort), ...extraEnv });
    return slot.proc;
  }

  /** HAProxy, then every gateway still running (SIGTERM; a draining one was already told). */
  async stop(): Promise<void> {
    await this.scope.close();
    await Promise.all(this.slots.map((s) => s.proc.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
