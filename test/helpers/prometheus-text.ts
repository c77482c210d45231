/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: every line must
 * be a `# HELP`, a `# TYPE`, a comment, blank, or a sample `name{label="value",…} number`;
 * anything else throws naming the line. NaN is accepted in any case, as Prometheus does
 * (prom-client writes `Nan` for an event-loop lag statistic with no sample since the last scrape). Samples are kept with their parsed labels.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  samples: Sample[];
  help: Map<string, string>;
  type: Map<string, string>;
  /** Sum of the samples named `name` whose labels include `match`; 0 when none. */
  sum(name: string, match?: Record<string, string>): number;
  /** The samples named `name` whose labels include `match`. */
  find(name: string, match?: Record<string, string>): Sample[];
  /** Every metric family (from # TYPE) plus every sample name. */
  names(): Set<string>;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const VALUE = '(?:[-+]?(?:\\d+\\.?\\d*(?:[eE][-+]?\\d+)?|\\.\\d+(?:[eE][-+]?\\d+)?)|[-+]?Inf|[Nn]a[Nn])';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL}=${LABEL_VALUE})(?:,${LABEL}=${LABEL_VALUE})*,?)?\\})? (${VALUE})(?: -?\\d+)?$`);
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const PAIR = new RegExp(`(${LABEL})=(${LABEL_VALUE})`, 'g');

export function parsePrometheusText(text: string): Scrape {
  const samples: Sample[] = [];
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    let m: RegExpExecArray | null;
    if ((m = HELP.exec(line))) return void help.set(m[1]!, m[2]!);
    if ((m = TYPE.exec(line))) return void type.set(m[1]!, m[2]!);
    if (line.startsWith('# HELP') || line.startsWith('# TYPE')) throw new Error(`malformed line ${i + 1}: ${line}`);
    if (line.startsWith('#')) return;
    m = SAMPLE.exec(line);
    if (!m) throw new Error(`malformed line ${i + 1}: ${line}`);
    const labels: Record<string, string> = {};
    for (const p of (m[2] ?? '').matchAll(PAIR)) labels[p[1]!] = JSON.parse(p[2]!) as string;
    const raw = m[3]!;
    const value = raw.endsWith('Inf') ? (raw.startsWith('-') ? -Infinity : Infinity) : /^nan$/i.test(raw) ? NaN : Number(raw);
    samples.push({ name: m[1]!, labels, value });
  });
  const find = (name: string, match: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
  return {
    samples,
    help,
    type,
    find,
    sum: (name, match) => find(name, match).reduce((a, s) => a + s.value, 0),
    names: () => new Set([...type.keys(), ...samples.map((s) => s.name)]),
  };
}

/** Metric names in PromQL expressions: every `licensegate_…` identifier. */
export function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/\blicensegate_[a-zA-Z0-9_:]*/g)].map((m) => m[0]);
}

/** GET /metrics; throws unless 200. */
export async function scrape(healthUrl: string, token?: string): Promise<Scrape> {
  const res = await fetch(`${healthUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${await res.text()}`);
  return parsePrometheusText(await res.text());
}
