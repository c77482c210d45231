/**
 * Check (4): nothing is told twice or never (C7, F4). Per agent, the Commands it applied carry
 * seqs 1, 2, 3, … with no gap (a gap is a command skipped) — except the documented skip of
 * SEQ_RESTART_SKIP that the first command appended by a restarted Redis makes so that no seq is
 * ever reused (docs/commands.md) — and no Command arrives again once
 * the agent acknowledged it (the Hello reports last_acked_seq, so a correct gateway never
 * resends it). A seq that comes back with a different command is worse: a new command reused
 * an old seq and the agent dropped it as a duplicate (seqs went backwards after Redis lost
 * writes, issue 8 item 6). Never excused: F4 holds in every durability mode.
 */
import type { TruthAgent } from '../fleet.ts';
import { finding, type CheckInput, type Finding } from './types.ts';

/**
 * The first command a different Redis process appends skips this many seqs (SEQ_GAP in
 * src/store/lua/includes/commands.lua). A gap at least half of it is that skip; a smaller gap
 * is a command the agent never got.
 */
export const SEQ_RESTART_SKIP = 1_048_576;

export function checkCommandHistory(a: TruthAgent): Finding[] {
  const out: Finding[] = [];
  const firstBySeq = new Map<number, { cmd: string; arg: string }>();
  let applied = 0;
  for (const o of a.observations) {
    if (o.kind !== 'command') continue;
    const first = firstBySeq.get(o.seq);
    if (o.duplicate) {
      if (first && (first.cmd !== o.cmd || first.arg !== o.arg)) {
        out.push(finding('commands', 'F4', a.key, `seq ${o.seq} reused: first ${first.cmd}(${first.arg}), now ${o.cmd}(${o.arg}) — dropped as a duplicate, never applied`));
      } else {
        out.push(finding('commands', 'C7', a.key, `seq ${o.seq} ${o.cmd}(${o.arg}) delivered again after it was acknowledged (connection ${o.conn})`));
      }
      continue;
    }
    if (o.seq <= applied) {
      // Applied but its ack never left (the socket was closing): delivering it again is C7's
      // "what it has not acknowledged is delivered again" — unless it is another command.
      if (first && (first.cmd !== o.cmd || first.arg !== o.arg)) {
        out.push(finding('commands', 'F4', a.key, `seq ${o.seq} reused: first ${first.cmd}(${first.arg}), now ${o.cmd}(${o.arg})`));
      }
      continue;
    }
    firstBySeq.set(o.seq, { cmd: o.cmd, arg: o.arg });
    const gap = o.seq - applied - 1;
    if (gap > 0 && gap < SEQ_RESTART_SKIP / 2) out.push(finding('commands', 'F4', a.key, `applied seq ${o.seq} after seq ${applied}: ${o.seq - applied - 1} command(s) skipped`));
    applied = o.seq;
  }
  return out;
}

export function checkCommands(input: CheckInput): Finding[] {
  return input.fleet.agents.flatMap(checkCommandHistory);
}
