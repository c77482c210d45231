/**
 * Check (3): no acknowledged change is lost (R1, F5). What the product told someone — an agent
 * its registration and license (Welcome, Commands), an admin service a job's result — must
 * still hold once the system has converged, unless a later change superseded it.
 *
 * "Later" is judged conservatively from the suite's clock, so that a concurrent change is
 * never mistaken for a loss: change B may supersede acknowledged change A unless B was
 * answered before A was even sent. A Welcome never explains a loss of a license — a Welcome
 * that takes a license away without a StopMonitoring to replay is exactly how a loss shows.
 * In `everysec` runs, effects acknowledged inside the loss window are excused (and reported).
 */
import type { ClientState } from '../../../src/licensing/client-admin.ts';
import type { TruthAgent } from '../fleet.ts';
import type { JobRecord } from '../job-ledger.ts';
import { finding, inWindow, registrationOf, type CheckInput, type Finding } from './types.ts';

type Expectation = { kind: 'licensed'; type: string } | { kind: 'unlicensed'; welcomeMayRelicense: boolean } | { kind: 'uninstalled' };

const BULK_JOBS = new Set(['tenant.takeBack', 'tenant.grant', 'serial.remove', 'serial.activate']);

/** B may have taken effect after A: B was not answered before A was sent, and B was not refused. */
function mayFollow(b: JobRecord, a: JobRecord): boolean {
  if (b === a || b.outcome === 'refused') return false;
  return !(b.tRes !== null && b.outcome === 'ok' && b.tRes < a.tEnq);
}

function touches(b: JobRecord, tenantId: string, clientId: string): boolean {
  if (b.name === 'serial.remove' || b.name === 'serial.activate') return true;
  if (b.input.tenantId !== tenantId) return false;
  return BULK_JOBS.has(b.name) || b.input.clientId === clientId;
}

function expectationsOf(job: JobRecord): { tenantId: string; clientId: string; expect: Expectation }[] {
  const r = job.result as Record<string, unknown>;
  switch (job.name) {
    case 'client.assign': {
      const s = r as unknown as ClientState;
      return [{ tenantId: s.tenantId, clientId: s.clientId, expect: s.license ? { kind: 'licensed', type: s.license } : { kind: 'unlicensed', welcomeMayRelicense: false } }];
    }
    case 'client.unassign': {
      const s = r as unknown as ClientState;
      return [{ tenantId: s.tenantId, clientId: s.clientId, expect: { kind: 'unlicensed', welcomeMayRelicense: false } }];
    }
    case 'client.uninstall': {
      const s = r as unknown as ClientState;
      return [{ tenantId: s.tenantId, clientId: s.clientId, expect: { kind: 'uninstalled' } }];
    }
    case 'tenant.takeBack':
      return (r.unassigned as string[]).map((clientId) => ({ tenantId: String(r.tenantId), clientId, expect: { kind: 'unlicensed', welcomeMayRelicense: true } }));
    case 'tenant.grant':
      return (r.promoted as string[]).map((clientId) => ({ tenantId: String(r.tenantId), clientId, expect: { kind: 'licensed', type: String(r.type) } }));
    default:
      return [];
  }
}

function holds(expect: Expectation, rec: { exists: boolean; status: string | null; type: string }): boolean {
  if (expect.kind === 'uninstalled') return rec.status === 'uninstalled';
  if (!rec.exists || rec.status === 'uninstalled') return false;
  return expect.kind === 'licensed' ? rec.type === expect.type : rec.type === '';
}

/** Did the agent observe a change after `since` that could explain leaving `expect`? */
function agentSawChange(a: TruthAgent | undefined, since: number, expect: Expectation): boolean {
  if (!a) return false;
  return a.observations.some((o) => {
    if (o.t < since) return false;
    if (o.kind === 'command' && !o.duplicate) return expect.kind === 'licensed' ? o.cmd !== 'start' || o.arg !== expect.type : o.cmd !== 'stop';
    return o.kind === 'welcome' && expect.kind === 'unlicensed' && expect.welcomeMayRelicense && o.licensed;
  });
}

function checkJobEffects(input: CheckInput): Finding[] {
  const out: Finding[] = [];
  const agents = input.fleet.byKey();
  for (const job of input.jobs) {
    if (job.outcome !== 'ok') continue;
    for (const { tenantId, clientId, expect } of expectationsOf(job)) {
      const key = `${tenantId}/${clientId}`;
      const rec = input.truth.clients.get(key);
      if (!rec || holds(expect, rec)) continue;
      if (expect.kind !== 'uninstalled') {
        if (input.jobs.some((b) => mayFollow(b, job) && touches(b, tenantId, clientId))) continue;
        if (agentSawChange(agents.get(key), job.tEnq, expect)) continue;
      }
      const what = expect.kind === 'licensed' ? `licensed ${expect.type}` : expect.kind;
      const now = rec.status === 'uninstalled' ? 'uninstalled' : rec.exists ? (rec.type ? `licensed ${rec.type}` : 'unlicensed') : 'unknown to Redis';
      out.push(finding('acknowledged', 'R1', key, `${job.name} ${job.id} answered "${what}" at ${job.tRes} ms; now ${now} and nothing later changed it`, inWindow(job.tRes, input.lossWindow) ? input.lossWindow!.why : undefined));
    }
  }
  return out;
}

/** A Welcome that took away (or changed) a license the agent held, with no StopMonitoring to replay. */
function checkSilentFlips(a: TruthAgent, input: CheckInput): Finding[] {
  const out: Finding[] = [];
  let held: { type: string | null; since: number } | null = null;
  const obs = a.observations;
  for (let i = 0; i < obs.length; i++) {
    const o = obs[i]!;
    if (o.kind === 'command' && !o.duplicate) held = o.cmd === 'start' ? { type: o.arg, since: o.t } : null;
    if (o.kind !== 'welcome') continue;
    const before = held;
    held = o.licensed ? { type: o.type, since: o.t } : null;
    if (!before || (o.licensed && o.type === before.type)) continue;
    // Explained when a stop (or uninstall) the agent had not acknowledged at this Hello arrives.
    const explained = obs.slice(i + 1).some((c) => c.kind === 'command' && c.seq > o.ackedAtHello && (c.cmd === 'stop' || c.cmd === 'uninstall'));
    if (explained) continue;
    out.push(
      finding(
        'acknowledged',
        'R1',
        a.key,
        `held ${before.type} (told at ${before.since} ms); the Welcome at ${o.t} ms says ${o.licensed ? `licensed ${o.type}` : `unlicensed (${o.reason})`} and no StopMonitoring follows`,
        inWindow(before.since, input.lossWindow) ? input.lossWindow!.why : undefined,
      ),
    );
  }
  return out;
}

function checkRegistrations(input: CheckInput): Finding[] {
  const out: Finding[] = [];
  for (const a of input.fleet.agents) {
    const reg = registrationOf(a);
    if (!reg || input.truth.clients.get(a.key)?.exists !== false) continue;
    out.push(finding('acknowledged', 'R1', a.key, `registered at ${reg.t} ms (Welcome with a credential) but Redis has no record of it`, inWindow(reg.t, input.lossWindow) ? input.lossWindow!.why : undefined));
  }
  return out;
}

function checkSerialKeys(input: CheckInput): Finding[] {
  const out: Finding[] = [];
  for (const job of input.jobs) {
    if (job.outcome !== 'ok') continue;
    const excuse = inWindow(job.tRes, input.lossWindow) ? input.lossWindow!.why : undefined;
    if (job.name === 'serial.remove') {
      const keyId = String(job.input.keyId);
      const status = input.truth.serials.get(keyId);
      if (status !== 'removed') out.push(finding('acknowledged', 'F2', keyId, `serial.remove ${job.id} answered at ${job.tRes} ms; the key is ${status ?? 'missing'}`, excuse));
    }
  }
  return out;
}

/** Grants per tenant and type equal the start plus what grant and take-back jobs did. */
function checkGrants(input: CheckInput): Finding[] {
  if (!input.grantBase) return [];
  const out: Finding[] = [];
  const sums = new Map<string, { lo: number; hi: number; window: number }>();
  for (const job of input.jobs) {
    if ((job.name !== 'tenant.grant' && job.name !== 'tenant.takeBack') || job.outcome === 'refused') continue;
    const k = `${String(job.input.tenantId)}|${String(job.input.type)}`;
    const s = sums.get(k) ?? { lo: input.grantBase.get(k) ?? 0, hi: input.grantBase.get(k) ?? 0, window: 0 };
    const n = Number(job.input.count) * (job.name === 'tenant.grant' ? 1 : -1);
    const final = input.jobFinal?.get(job.id)?.state;
    const certain = job.outcome === 'ok' || final === 'completed';
    if (certain || n < 0) s.lo += n;
    if (certain || n > 0) s.hi += n;
    if (job.outcome === 'ok' && inWindow(job.tRes, input.lossWindow)) s.window += Math.abs(n);
    sums.set(k, s);
  }
  for (const [k, s] of sums) {
    const actual = input.truth.grants.get(k) ?? 0;
    if (actual >= s.lo && actual <= s.hi) continue;
    const excuse = actual >= s.lo - s.window && actual <= s.hi + s.window && s.window > 0 ? input.lossWindow!.why : undefined;
    out.push(finding('acknowledged', 'R1', k, `granted ${actual}, but the jobs' answers add up to ${s.lo === s.hi ? s.lo : `${s.lo}..${s.hi}`}`, excuse));
  }
  return out;
}

export function checkAcknowledged(input: CheckInput): Finding[] {
  return [
    ...checkRegistrations(input),
    ...input.fleet.agents.flatMap((a) => checkSilentFlips(a, input)),
    ...checkJobEffects(input),
    ...checkSerialKeys(input),
    ...checkGrants(input),
  ];
}
