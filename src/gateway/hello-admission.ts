/**
 * Which Hello runs now (SPEC C13): a Hello that finds a handshake slot starts at once; one that
 * does not waits in the bounded Hello queue and starts as slots free, oldest first; one the
 * queue cannot keep (full, or waited too long) is refused with OVERLOADED and a hint sized to
 * the queue ahead of it. The gateway owns the sockets; this owns the slots and the queue.
 */
import { LicensegateError } from '../errors.ts';
import type { HelloMessage } from '../protocol/client-message.ts';
import type { Admission } from './admission.ts';
import type { AgentConnection } from './agent-connection.ts';
import type { HelloQueue } from './hello-queue.ts';

export class HelloAdmission {
  /** Set when the gateway stops: nothing more starts from the queue. */
  stopped = false;

  constructor(
    private readonly admission: Admission,
    private readonly queue: HelloQueue<AgentConnection, HelloMessage>,
    /** Runs one Hello in a slot; the slot is freed when it settles. */
    private readonly authenticate: (conn: AgentConnection, hello: HelloMessage) => Promise<void>,
  ) {}

  /** A Hello arrived on `conn` (state awaiting-hello): start, queue or refuse it. */
  offer(conn: AgentConnection, hello: HelloMessage, now: number): void {
    const enrolling = hello.auth.kind === 'enrollmentToken';
    if (this.admission.admitHello(enrolling)) return this.start(conn, hello, enrolling);
    // No slot: wait in the queue. Slots are refilled from it as soon as they free, so a Hello
    // that finds one free never overtakes a queued one of its kind.
    conn.identify(hello.tenantId, hello.clientId);
    if (this.queue.push(conn, hello, enrolling, now)) {
      conn.state = 'queued';
      return;
    }
    const retryAfterMs = this.admission.retryAfterQueued(now, this.queue.size);
    conn.fail(new LicensegateError('OVERLOADED', enrolling ? 'too many enrollments in flight, hello queue full' : 'too many handshakes in flight, hello queue full', { retryAfterMs }));
  }

  /** A queued connection closed: it leaves the queue at once. */
  remove(conn: AgentConnection): void {
    this.queue.remove(conn);
  }

  /** Refuses the Hellos that waited too long; the k-th overdue one comes back after k more. */
  expire(now: number): void {
    let ahead = this.queue.size;
    for (const { key: conn } of this.queue.expire(now)) {
      if (conn.state !== 'queued') continue;
      const retryAfterMs = this.admission.retryAfterQueued(now, ahead++);
      conn.fail(new LicensegateError('OVERLOADED', `waited ${this.queue.waitMs} ms in the hello queue`, { retryAfterMs }));
    }
  }

  /** Authenticates a Hello in a handshake slot; when it ends, the slot goes to the queue. */
  private start(conn: AgentConnection, hello: HelloMessage, enrolling: boolean): void {
    this.admission.begin(enrolling);
    void this.authenticate(conn, hello).finally(() => {
      const now = Date.now();
      this.admission.end(enrolling, now);
      this.startQueued(now);
    });
  }

  /** Fills the free handshake slots from the queue, oldest first; overdue ones are refused. */
  private startQueued(now: number): void {
    if (this.queue.size === 0 || this.stopped) return;
    this.expire(now);
    const { maxHandshakes, maxEnrollments } = this.admission.limits;
    while (this.admission.handshakes < maxHandshakes) {
      const next = this.queue.takeNext(this.admission.enrollments < maxEnrollments);
      if (!next) return;
      if (next.key.state === 'queued') this.start(next.key, next.value, next.enrolling);
    }
  }
}
