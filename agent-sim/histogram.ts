/**
 * A latency histogram with logarithmic buckets 1% wide: bounded memory however many samples,
 * percentiles within 1% of the exact value, and merging is adding counts — which is what the
 * parent needs to combine its workers' histograms sent over IPC.
 */

/** Smallest distinguished value (ms); anything below lands in bucket 0. */
const MIN_MS = 0.01;
/** Bucket i >= 1 covers [MIN_MS * GROWTH^(i-1), MIN_MS * GROWTH^i). */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** Enough buckets for values up to several hours. */
const BUCKETS = 2400;

/** A histogram as sent between processes (sparse: only non-empty buckets). */
export interface HistogramData {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** [bucket index, count] pairs. */
  buckets: [number, number][];
}

/** Percentiles of one histogram, in milliseconds (rounded to 0.01 ms). */
export interface PercentileSummary {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function bucketOf(ms: number): number {
  if (!(ms >= MIN_MS)) return 0; // also NaN
  return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(ms / MIN_MS) / LOG_GROWTH));
}

/** Representative value of a bucket: its geometric middle (within 0.5% of any member). */
function valueOf(bucket: number): number {
  return bucket === 0 ? 0 : MIN_MS * GROWTH ** (bucket - 0.5);
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Mergeable latency histogram (milliseconds), log buckets 1% wide. */
export class Histogram {
  private readonly counts = new Uint32Array(BUCKETS);
  /** Samples recorded. */
  count = 0;
  /** Their sum (for the mean). */
  sum = 0;
  /** Exact smallest sample; Infinity when empty. */
  min = Infinity;
  /** Exact largest sample; -Infinity when empty. */
  max = -Infinity;

  /** Records one value in milliseconds; negative and non-finite values are ignored. */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.counts[bucketOf(ms)]! += 1;
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /** Adds another histogram's samples (local or received from a worker). */
  merge(other: Histogram | HistogramData): void {
    const data = other instanceof Histogram ? other.toData() : other;
    if (data.count === 0) return;
    for (const [bucket, n] of data.buckets) this.counts[bucket]! += n;
    this.count += data.count;
    this.sum += data.sum;
    this.min = Math.min(this.min, data.min);
    this.max = Math.max(this.max, data.max);
  }

  /** The value below which `q` (0-1) of the samples fall; exact at the extremes (min, max). */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, valueOf(b)));
    }
    return this.max;
  }

  /** count, mean, min, p50, p90, p99, max — or null when nothing was recorded. */
  summary(): PercentileSummary | null {
    if (this.count === 0) return null;
    return {
      count: this.count,
      mean: round2(this.sum / this.count),
      min: round2(this.min),
      p50: round2(this.quantile(0.5)),
      p90: round2(this.quantile(0.9)),
      p99: round2(this.quantile(0.99)),
      max: round2(this.max),
    };
  }

  /** JSON-safe form for IPC; Histogram.fromData() restores it. */
  toData(): HistogramData {
    const buckets: [number, number][] = [];
    for (let b = 0; b < BUCKETS; b++) if (this.counts[b]) buckets.push([b, this.counts[b]!]);
    return { count: this.count, sum: this.sum, min: this.min, max: this.max, buckets };
  }

  /** Rebuilds a histogram from toData() output. */
  static fromData(data: HistogramData): Histogram {
    const h = new Histogram();
    h.merge(data);
    return h;
  }
}
