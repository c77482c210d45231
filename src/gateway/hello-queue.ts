/**
 * The Hello queue (SPEC C13): Hellos beyond MAX_HANDSHAKES / MAX_ENROLLMENTS in flight wait
 * here, in arrival order, and start as slots free, instead of being refused. A refusal costs the
 * agent a new TCP + WebSocket (+ TLS) handshake and comes back later anyway; in a herd that
 * turned most of the gateway's work into refusals. Bounded twice: by size (`maxSize`, refused
 * with OVERLOADED beyond it) and by time (`waitMs`, refused with OVERLOADED once waited that
 * long, so an agent hears back before its own handshake deadline even when Redis stalls).
 *
 * Two lanes, enrollments and reconnects, because they have different limits: an enrollment
 * waiting for an enrollment slot must not hold back the reconnects behind it (head of line).
 * `takeNext` starts the older of the two heads unless that is an enrollment and enrollments
 * are at their limit, then the reconnect head.
 *
 * Every operation is O(1) (a doubly linked list per lane plus a map from key to node, so a
 * Hello whose socket closes leaves at once) except `expire`, which is O(expired): entries are
 * in arrival order, so only the heads can be overdue. No timers: the gateway's sweep and every
 * dequeue call `expire`.
 */

interface Node<K, V> {
  key: K;
  value: V;
  enrolling: boolean;
  queuedAt: number;
  prev: Node<K, V> | undefined;
  next: Node<K, V> | undefined;
}

class Lane<K, V> {
  head: Node<K, V> | undefined;
  tail: Node<K, V> | undefined;

  append(node: Node<K, V>): void {
    node.prev = this.tail;
    node.next = undefined;
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
  }

  unlink(node: Node<K, V>): void {
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = node.next = undefined;
  }
}

export interface QueuedHello<K, V> {
  key: K;
  value: V;
  enrolling: boolean;
  queuedAt: number;
}

export class HelloQueue<K, V> {
  private readonly enrollments = new Lane<K, V>();
  private readonly reconnects = new Lane<K, V>();
  private readonly byKey = new Map<K, Node<K, V>>();
  /** Hellos queued since start (each once), for logs and tests. */
  queuedTotal = 0;
  /** Hellos refused because they waited `waitMs`. */
  expiredTotal = 0;
  /** Largest size reached. */
  peak = 0;

  constructor(
    readonly maxSize: number,
    readonly waitMs: number,
  ) {
    if (!Number.isInteger(maxSize) || maxSize < 0) throw new Error(`hello queue size must be a non-negative integer, got ${maxSize}`);
    if (!Number.isFinite(waitMs) || waitMs <= 0) throw new Error(`hello queue wait must be positive, got ${waitMs}`);
  }

  get size(): number {
    return this.byKey.size;
  }

  has(key: K): boolean {
    return this.byKey.has(key);
  }

  /** Queues a Hello; false when the queue is full (or the key is already queued). */
  push(key: K, value: V, enrolling: boolean, now: number): boolean {
    if (this.byKey.size >= this.maxSize || this.byKey.has(key)) return false;
    const node: Node<K, V> = { key, value, enrolling, queuedAt: now, prev: undefined, next: undefined };
    (enrolling ? this.enrollments : this.reconnects).append(node);
    this.byKey.set(key, node);
    this.queuedTotal++;
    if (this.byKey.size > this.peak) this.peak = this.byKey.size;
    return true;
  }

  /** Removes a queued Hello (its socket closed). True if it was queued. */
  remove(key: K): boolean {
    const node = this.byKey.get(key);
    if (!node) return false;
    this.take(node);
    return true;
  }

  /**
   * The Hello to start now, or undefined: the older head, except that an enrollment is passed
   * over while `canEnroll` is false (enrollment slots full), so reconnects behind it go on.
   */
  takeNext(canEnroll: boolean): QueuedHello<K, V> | undefined {
    const e = canEnroll ? this.enrollments.head : undefined;
    const r = this.reconnects.head;
    const node = e && (!r || e.queuedAt <= r.queuedAt) ? e : r;
    return node ? this.take(node) : undefined;
  }

  /** Takes every Hello queued at or before `now - waitMs`, oldest first per lane. */
  expire(now: number): QueuedHello<K, V>[] {
    const limit = now - this.waitMs;
    const out: QueuedHello<K, V>[] = [];
    for (const lane of [this.enrollments, this.reconnects]) {
      while (lane.head && lane.head.queuedAt <= limit) out.push(this.take(lane.head));
    }
    this.expiredTotal += out.length;
    return out;
  }

  /** Takes everything (shutdown). */
  clear(): QueuedHello<K, V>[] {
    const out = [...this.byKey.values()].map((n) => this.take(n));
    return out;
  }

  private take(node: Node<K, V>): QueuedHello<K, V> {
    (node.enrolling ? this.enrollments : this.reconnects).unlink(node);
    this.byKey.delete(node.key);
    return { key: node.key, value: node.value, enrolling: node.enrolling, queuedAt: node.queuedAt };
  }
}
