/**
 * The chaos results: chaos/results/latest.json (everything) and latest.md (a table per run,
 * then each scenario's violations grouped by check, with a few examples each).
 */
import type { MachineInfo } from '../../bench/lib/types.ts';
import type { Finding } from './checks/types.ts';
import type { ScenarioResult } from './scenario.ts';

export interface ChaosResults {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  quick: boolean;
  machine: MachineInfo;
  git: { commit: string | null; dirty: string[] };
  options: { agents: number | null; only: string[] };
  scenarios: ScenarioResult[];
  pass: boolean;
}

/** Findings per check, each with a count and the first few messages. */
export function groupFindings(findings: Finding[], examples = 3): { key: string; count: number; examples: string[] }[] {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = `${f.check} (${f.rule})`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  return [...groups].map(([key, list]) => ({ key, count: list.length, examples: list.slice(0, examples).map((f) => `${f.subject}: ${f.message}`) }));
}

const summary = (r: ScenarioResult): string =>
  r.error ? `error: ${r.error.split('\n')[0]!.slice(0, 80)}` : groupFindings(r.violations).map((g) => `${g.key} ×${g.count}`).join(', ') || '0';

function rows(results: ChaosResults): string[][] {
  return results.scenarios.map((r) => [
    r.name,
    String(r.agents),
    r.convergeMs === null ? (r.error ? '—' : 'no') : String(r.convergeMs),
    summary(r),
    r.pass ? 'pass' : 'FAIL',
  ]);
}

const HEADER = ['scenario', 'agents', 'converged (ms)', 'violations', 'result'];

export function textTable(results: ChaosResults): string {
  const all = [HEADER, ...rows(results)];
  const widths = HEADER.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

export function markdown(results: ChaosResults): string {
  const m = results.machine;
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const out = [
    `# licensegate chaos — ${results.quick ? 'quick' : 'full'} run: ${results.pass ? 'PASS' : 'FAIL'}`,
    '',
    `${results.startedAt} · ${Math.round(results.durationMs / 1000)} s · ${m.cpus} × ${m.cpuModel} · Node ${m.node} · ${m.redis.split(' ').slice(0, 3).join(' ')} · commit ${results.git.commit?.slice(0, 10) ?? '?'}${results.git.dirty.length ? ' (dirty)' : ''}`,
    '',
    `| ${HEADER.join(' | ')} |`,
    '|---|---:|---:|---|:---:|',
    ...rows(results).map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
  ];
  for (const r of results.scenarios) {
    out.push(`## ${r.name} — ${r.pass ? 'pass' : 'FAIL'}`, '', `${r.title}. Fault: ${r.fault || '—'}. ${r.agents} agents, ${r.jobs} admin jobs, ${Math.round(r.durationMs / 1000)} s.`, '');
    if (r.error) out.push('```', r.error.slice(0, 2000), '```', '');
    for (const g of groupFindings(r.violations)) out.push(`- **${g.key}** ×${g.count}`, ...g.examples.map((e) => `  - ${e}`));
    if (r.excused.length) out.push(`- excused by the durability mode: ${groupFindings(r.excused, 1).map((g) => `${g.key} ×${g.count}`).join(', ')}`);
    for (const n of r.notes) out.push(`- note: ${n}`);
    out.push('');
  }
  return out.join('\n');
}
