/**
 * The small interface through which the gateway, the admin worker and the Redis connections
 * report what happened (SPEC H4). Components depend on this, never on prom-client: with
 * METRICS=off they get NOOP_METRICS, whose methods do nothing and whose `enabled` lets a hot
 * path skip even the timing it would otherwise do (no clock read, no allocation).
 *
 * Every method takes bounded values only (catalogue codes, fixed outcome words, job names from
 * the contract): the Prometheus implementation looks up a precomputed label child, so a call
 * costs one property read and one addition — no string building per frame.
 */
import type { ErrorCode } from '../errors.ts';

export type HandshakeOutcome = 'welcome' | 'refused';
/** Enrollment-token Hellos: `registered` issued a credential, `existing` was welcomed without one. */
export type EnrollmentOutcome = 'registered' | 'existing' | 'refused';
export type DoorbellKind = 'cmd' | 'supersede' | 'malformed';
/** `refused`: a coded refusal (FORBIDDEN, INVALID_JOB, …), not retried; `failed`: retried with backoff. */
export type JobOutcome = 'completed' | 'refused' | 'failed';
/** The Redis connection of a process: the gateway's commands, or BullMQ's (scheduler and workers). */
export type RedisConnectionRole = 'gateway' | 'bullmq';

export interface Metrics {
  /** False for NOOP_METRICS: callers skip timing work. */
  readonly enabled: boolean;
  /** An Error frame went to an agent with this catalogue code (refusals and closes). */
  errorSent(code: ErrorCode): void;
  /** A Hello that ran the Hello script ended. `enrolling`: it carried the enrollment token. */
  handshake(outcome: HandshakeOutcome, enrolling: boolean, registered: boolean): void;
  /** A round trip to Redis of this script (the hello script) or PING, in seconds. */
  redisRoundTrip(op: 'hello' | 'ping', seconds: number): void;
  /** ioredis is reconnecting this connection. */
  redisReconnect(role: RedisConnectionRole): void;
  doorbellReceived(kind: DoorbellKind): void;
  /** This node published a doorbell (a supersede: command doorbells are rung by Lua scripts). */
  doorbellSent(): void;
  /** The command log was repaired after Redis lost writes (SPEC F4). */
  seqRepaired(): void;
  /** A command delivered on a live connection was acknowledged this long after it was appended. */
  commandAcked(seconds: number): void;
  /** An admin job attempt ended. */
  adminJob(name: string, outcome: JobOutcome, seconds: number): void;
}

const noop = (): void => {};

export const NOOP_METRICS: Metrics = {
  enabled: false,
  errorSent: noop,
  handshake: noop,
  redisRoundTrip: noop,
  redisReconnect: noop,
  doorbellReceived: noop,
  doorbellSent: noop,
  seqRepaired: noop,
  commandAcked: noop,
  adminJob: noop,
};
