/** The results table: plain text for the terminal, markdown for bench/results/latest.md. */
import type { BenchResults, ScenarioResult } from './types.ts';

function num(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—';
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function rows(results: BenchResults): string[][] {
  return Object.entries(results.scenarios).map(([name, r]: [string, ScenarioResult]) => [
    name,
    r.error ? 'error' : `${num(r.value)} ${r.unit}`,
    r.baseline === null ? '—' : `${num(r.baseline)} ${r.baselineUnit ?? r.unit}`,
    r.ratio === null ? '—' : r.ratio.toFixed(2) + (paired(r) ? ' †' : ''),
    r.goal,
    (r.error ? `no (${r.error.split('\n')[0]!.slice(0, 60)})` : r.met ? 'yes' : 'no') + (r.details.noisy ? ' *' : ''),
  ]);
}

const HEADER = ['scenario', 'value', 'baseline', 'ratio', 'goal', 'met'];

/** A row whose baseline and ratio come from trials paired with bare-ws trials (the storms). */
const paired = (r: ScenarioResult): boolean => typeof r.details.ratioMethod === 'string';

const PAIRED_NOTE =
  '† baseline: the median of the bare-ws trials run just before each of its trials (not the baseline-ws row); ratio: the median of the per-trial ratios (details.pairs), so it need not equal value / baseline.';

export function textTable(results: BenchResults): string {
  const all = [HEADER, ...rows(results)];
  const widths = HEADER.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  const noisy = Object.values(results.scenarios).some((r) => r.details.noisy);
  const anyPaired = Object.values(results.scenarios).some(paired);
  return [
    line(all[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...all.slice(1).map(line),
    ...(anyPaired || noisy ? [''] : []),
    ...(anyPaired ? [PAIRED_NOTE] : []),
    ...(noisy ? ['* other processes used the CPU during this measurement (details.noisy): less reliable'] : []),
  ].join('\n');
}

const perUnitOf = (x: unknown): number | null => {
  const v = (x as { perUnit?: unknown } | undefined)?.perUnit;
  return typeof v === 'number' ? v : null;
};

/**
 * One line: Redis commands per enrollment, reconnect, heartbeat flush and job (INFO commandstats
 * deltas summed over every master, details.redisCommandsPer… of each scenario), and the
 * per-engine figures of cluster-storm. Empty when no scenario measured any.
 */
export function commandsLine(results: BenchResults): string {
  const d = (name: string) => results.scenarios[name]?.details ?? {};
  const parts: string[] = [];
  const add = (label: string, v: number | null, extra = '') => {
    if (v !== null) parts.push(`${label} ${num(v)}${extra}`);
  };
  // Results written before these names existed called both `redisCommandsPerAgent`.
  add('enrollment', perUnitOf(d('boot-storm').redisCommandsPerEnrollment ?? d('boot-storm').redisCommandsPerAgent));
  add('reconnect', perUnitOf(d('reconnect-storm').redisCommandsPerReconnect ?? d('reconnect-storm').redisCommandsPerAgent));
  const flush = d('idle-cpu').redisCommandsPerHeartbeatFlush as { perUnit?: number; perAgent?: number } | undefined;
  add('heartbeat flush', perUnitOf(flush), flush?.perAgent !== undefined ? ` (${num(flush.perAgent)} per agent)` : '');
  add('job', perUnitOf(d('job-throughput').redisCommandsPerJob));
  const lines: string[] = [];
  if (parts.length) lines.push(`Redis commands per operation (engine ${results.options.engine ?? 'single'}; INFO commandstats summed over every master, Lua's inner commands included): ${parts.join(' · ')}.`);
  const engines = d('cluster-storm').engines as Record<string, { redisCommandsPerEnrollment?: unknown; roundTripsPerEnrollment?: number | null }> | undefined;
  if (engines) {
    const per = Object.entries(engines).map(([e, x]) => `${e} ${num(perUnitOf(x.redisCommandsPerEnrollment))} commands, ${num(x.roundTripsPerEnrollment ?? null)} round trips`);
    lines.push(`cluster-storm, per enrollment: ${per.join(' · ')}.`);
  }
  return lines.join('\n\n');
}

/**
 * The redis-commands row as a table, engine × operation: commands per unit (INFO commandstats
 * summed over every master). Empty when the row is absent or failed.
 */
export function commandsTable(results: BenchResults): string {
  const engines = results.scenarios['redis-commands']?.details.engines as Record<string, Record<string, { perUnit?: number; perAgent?: number; masters?: number }>> | undefined;
  if (!engines) return '';
  const ops: [string, string][] = [['enrollment', 'enrollment'], ['reconnect', 'reconnect'], ['heartbeatFlush', 'heartbeat flush (per agent)'], ['job', 'admin job']];
  const cell = (x: { perUnit?: number; perAgent?: number } | undefined, op: string) =>
    x?.perUnit === undefined ? '—' : op === 'heartbeatFlush' && x.perAgent !== undefined ? `${num(x.perUnit)} (${num(x.perAgent)})` : num(x.perUnit);
  return [
    'redis-commands: Redis commands per operation on each engine, same run (INFO commandstats summed over every master, Lua\'s inner commands included):',
    '',
    `| engine | masters | ${ops.map(([, label]) => label).join(' | ')} |`,
    `|---|---:|${ops.map(() => '---:').join('|')}|`,
    ...Object.entries(engines).map(([e, x]) => `| ${e} | ${x.enrollment?.masters ?? '—'} | ${ops.map(([op]) => cell(x[op], op)).join(' | ')} |`),
  ].join('\n');
}

export function markdown(results: BenchResults): string {
  const m = results.machine;
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const table = [
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map((_, i) => (i === 0 || i === 4 ? '---' : i === 5 ? ':---:' : '---:')).join('|')}|`,
    ...rows(results).map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
  return [
    `# licensegate bench — ${results.quick ? 'quick' : 'full'} run`,
    '',
    `${results.startedAt} · ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB · Node ${m.node} · ${m.redis.split(' ').slice(0, 3).join(' ')} · ${m.os}`,
    `Agents: ${results.options.agents ?? (results.quick ? 'quick defaults' : 'full defaults')}, driver concurrency ${results.options.concurrency}. Baselines are measured in the same run on the same machine (see bench/README.md).`,
    ...(results.mergedRuns ?? []).map((m) => {
      const rows = Object.entries(results.scenarios).filter(([, r]) => (r.details.run as { startedAt?: string } | undefined)?.startedAt === m.startedAt).map(([k]) => k);
      return `Rows ${rows.join(', ')}: measured by a later ${m.quick ? 'quick' : 'full'} run (${m.startedAt}, commit ${m.git.commit?.slice(0, 7) ?? '?'}, load average ${m.loadAverageAtStart.join(' / ')} at its start; details.run).`;
    }),
    '',
    table,
    ...(Object.values(results.scenarios).some(paired) ? ['', PAIRED_NOTE] : []),
    ...(Object.values(results.scenarios).some((r) => r.details.noisy) ? ['', '\\* other processes used the CPU during this measurement (details.noisy): less reliable.'] : []),
    ...(commandsLine(results) ? ['', commandsLine(results)] : []),
    ...(commandsTable(results) ? ['', commandsTable(results)] : []),
    '',
  ].join('\n');
}
