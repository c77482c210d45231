/**
 * Check (4): nothing is told twice or never (C7, F4). Per agent, the Commands it applied carry
 * seqs 1, 2, 3, … with no gap (a gap is a command skipped), and no Command arrives again once
 * the agent acknowledged it (the Hello reports last_acked_seq, so a correct gateway never
 * resends it). A seq that comes back with a different command is worse: a new command reused
 * an old seq and the agent dropped it as a duplicate (seqs went backwards after Redis lost
 * writes, issue 8 item 6). Never excused: F4 holds in every durability mode.
 */
import type { TruthAgent } from '../fleet.ts';
import { finding, type CheckInput, type Finding } from './types.ts';

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
    if (o.seq !== applied + 1) out.push(finding('commands', 'F4', a.key, `applied seq ${o.seq} after seq ${applied}: ${o.seq - applied - 1} command(s) skipped`));
    applied = o.seq;
  }
  return out;
}

export function checkCommands(input: CheckInput): Finding[] {
  return input.fleet.agents.flatMap(checkCommandHistory);
}
