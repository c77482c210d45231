/**
 * Pending-saga records (SPEC F2). A grant or take-back moves licenses between two tenants'
 * slots in two steps; a crash between them would strand the licenses for good, because a job
 * retry is not guaranteed (attempts run out, plain producers default to one attempt). So each
 * such saga is recorded in the default tenant's `sagas` hash — a grant atomically with its
 * first step, a take-back just before its first step — and the record is deleted only after
 * the last step. The ledger's resumer (resume-ledger.ts) finishes every record it finds, at
 * start-up and periodically. Every step is idempotent by op id, so the job and the resumer may
 * both run a saga: it still has exactly one effect. See docs/sagas.md.
 */
import type { LicenseTypeName } from './license-types.ts';
import type { LedgerContext } from './ledger-context.ts';

export type SagaKind = 'grant' | 'takeBack';

/** Licenses of one serial key moved by a grant's first step. */
export interface GrantPart {
  key: string;
  exp: number;
  n: number;
}

export interface SagaRecord {
  kind: SagaKind;
  /** The operation (job id): every step's op id derives from it. */
  opId: string;
  tenant: string;
  type: LicenseTypeName;
  count: number;
  /** Take-back only: unassign Clients if needed (T4). */
  force: boolean;
  /** User id of the actor, for the audit trail of the steps still to run. */
  actor: string;
  /** When the saga began (ms); the resumer leaves young take-backs to their job (see resume-ledger.ts). */
  startedAt: number;
  /** Grant only: what the first step reserved, per key (written with that step). */
  parts?: GrantPart[];
}

/** The record's field in the sagas hash. */
export function sagaField(kind: SagaKind, opId: string): string {
  return `${kind}:${opId}`;
}

/** Records a saga about to begin (take-back); a record already there (a retry) is kept. */
export async function recordSaga(ctx: LedgerContext, saga: SagaRecord): Promise<void> {
  await ctx.redis.hsetnx(ctx.keys.sagas(), sagaField(saga.kind, saga.opId), JSON.stringify(saga));
}

/** Deletes a saga's record once its last step ran (or its first step was refused). */
export async function forgetSaga(ctx: LedgerContext, kind: SagaKind, opId: string): Promise<void> {
  await ctx.redis.hdel(ctx.keys.sagas(), sagaField(kind, opId));
}

export interface PendingSagas {
  sagas: SagaRecord[];
  /** Fields whose record cannot be read (reported, never resumed). */
  unreadable: string[];
}

/** Every pending saga, oldest first. */
export async function pendingSagas(ctx: LedgerContext): Promise<PendingSagas> {
  const sagas: SagaRecord[] = [];
  const unreadable: string[] = [];
  for (const [field, raw] of Object.entries(await ctx.redis.hgetall(ctx.keys.sagas()))) {
    try {
      const rec = JSON.parse(raw) as SagaRecord;
      if ((rec.kind !== 'grant' && rec.kind !== 'takeBack') || sagaField(rec.kind, rec.opId) !== field) throw new Error('not a saga record');
      sagas.push(rec);
    } catch {
      unreadable.push(field);
    }
  }
  sagas.sort((a, b) => a.startedAt - b.startedAt);
  return { sagas, unreadable };
}
