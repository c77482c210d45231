/**
 * What observers see of a simulated agent (agent.ts): its identity, its protocol state
 * (credential, acked seq, license, monitoring, Commands, connected, uninstalled, last Error /
 * close / Welcome) and toState(), the events it emits and waitFor(). The protocol client, Agent,
 * extends this and is the only writer of the state. Listener faults never escape: a throwing listener goes to 'error' (when listened).
 */
import { EventEmitter } from 'node:events';
import type { AgentCommand, AgentEvents, AgentLicense, AgentOptions, AgentOs, AgentState, CloseInfo, ErrorFrameInfo, WelcomeInfo } from './agent-types.ts';

const NO_COMMANDS: readonly AgentCommand[] = Object.freeze([]);

interface Waiter {
  predicate: () => boolean;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export abstract class AgentObservable extends EventEmitter<AgentEvents> {
  readonly tenantId: string;
  readonly clientId: string;
  readonly hostname: string;
  readonly os: AgentOs;
  readonly nonPersistent: boolean;
  protected readonly enrollmentProof: string | undefined;

  protected _credential: string | undefined;
  protected _lastAckedSeq: number;
  protected _license: AgentLicense | null = null;
  protected _monitoring = false;
  protected _commands: AgentCommand[] | null = null;
  protected _connected = false;
  protected _uninstalled = false;
  protected _lastError: ErrorFrameInfo | null = null;
  protected _lastClose: CloseInfo | null = null;
  protected _lastWelcome: WelcomeInfo | null = null;
  private waiters: Waiter[] | null = null;

  constructor(options: AgentOptions) {
    super();
    this.tenantId = options.tenantId ?? 'default';
    this.clientId = options.clientId;
    this.hostname = options.hostname ?? options.clientId;
    this.os = { ...options.os };
    this.nonPersistent = options.nonPersistent ?? false;
    this.enrollmentProof = options.enrollmentProof;
    this._credential = options.credential;
    this._lastAckedSeq = options.lastAckedSeq ?? 0;
  }

  /** What a simulator persists between runs (JSON-safe; credential absent until enrolled). */
  toState(): AgentState {
    return {
      clientId: this.clientId,
      tenantId: this.tenantId,
      credential: this._credential,
      ...(this.enrollmentProof !== undefined ? { enrollmentProof: this.enrollmentProof } : {}),
      lastAckedSeq: this._lastAckedSeq,
      os: { ...this.os },
      hostname: this.hostname,
      nonPersistent: this.nonPersistent,
    };
  }

  // --- state -----------------------------------------------------------------------------------

  /** Client credential: the configured one, or the one issued by the last registering Welcome. */
  get credential(): string | undefined { return this._credential; }
  /** Highest Command.seq acknowledged (sent in the next Hello). */
  get lastAckedSeq(): number { return this._lastAckedSeq; }
  /** License reported by the last Welcome; null before the first. Commands do not change it. */
  get license(): AgentLicense | null { return this._license; }
  /** Set by each Welcome's license state, then by the Commands in order: StartMonitoring on; StopMonitoring, Uninstall, UninstallNotice off. */
  get monitoring(): boolean { return this._monitoring; }
  /** Every Command received, in order, duplicates included. */
  get commands(): readonly AgentCommand[] { return this._commands ?? NO_COMMANDS; }
  /** True between Welcome and the close of that connection. */
  get connected(): boolean { return this._connected; }
  /** True after an Uninstall command was applied, an UninstallNotice was sent, or an Error said CLIENT_UNINSTALLED / UNINSTALLED. */
  get uninstalled(): boolean { return this._uninstalled; }
  /** Last Error frame received, on any connection. */
  get lastError(): ErrorFrameInfo | null { return this._lastError; }
  /** How the last connection closed (terminate() records code 1006). */
  get lastClose(): CloseInfo | null { return this._lastClose; }
  /** The last Welcome received. */
  get lastWelcome(): WelcomeInfo | null { return this._lastWelcome; }

  /**
   * Resolves when `predicate()` is true — checked now and after every event and state change.
   * Rejects after `timeoutMs` with a message naming the agent, the predicate and its state.
   */
  waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    try {
      if (predicate()) return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.removeWaiter(waiter);
          reject(new Error(`agent ${this.clientId}: waitFor(${String(predicate).slice(0, 120)}) timed out after ${timeoutMs} ms; state ${this.describe()}`));
        }, timeoutMs),
      };
      (this.waiters ??= []).push(waiter);
    });
  }

  /** Emits an event without letting a throwing listener escape, then re-checks waiters. */
  protected fire<K extends keyof AgentEvents>(event: K, ...args: AgentEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: AgentEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.report(err);
    }
    this.checkWaiters();
  }

  /** Local faults go to 'error' listeners, if any; an unlistened 'error' must not throw. */
  protected report(err: unknown): void {
    if (this.listenerCount('error') === 0) return;
    try {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    } catch {
      // an 'error' listener threw; nothing sensible left to do
    }
  }

  protected checkWaiters(): void {
    if (!this.waiters) return;
    for (const waiter of [...this.waiters]) {
      let done: boolean;
      try {
        done = waiter.predicate();
      } catch (err) {
        this.removeWaiter(waiter);
        waiter.reject(err as Error);
        continue;
      }
      if (done) {
        this.removeWaiter(waiter);
        waiter.resolve();
      }
    }
  }

  private removeWaiter(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    const i = this.waiters?.indexOf(waiter) ?? -1;
    if (i >= 0) this.waiters!.splice(i, 1);
    if (this.waiters?.length === 0) this.waiters = null;
  }

  private describe(): string {
    return JSON.stringify({
      connected: this._connected,
      monitoring: this._monitoring,
      uninstalled: this._uninstalled,
      lastAckedSeq: this._lastAckedSeq,
      commands: this._commands?.length ?? 0,
      lastError: this._lastError?.code,
      lastClose: this._lastClose?.code,
    });
  }
}
