/** Latency recording and summaries. Times are taken with process.hrtime.bigint() and kept in milliseconds. */

export const now = (): bigint => process.hrtime.bigint();

/** Milliseconds elapsed since `start` (a process.hrtime.bigint() reading). */
export const msSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

export interface LatencySummary {
  n: number;
  mean: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Nearest-rank percentile of an ascending-sorted array (p in [0, 1]). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** A growable buffer of latency samples in milliseconds. */
export class Recorder {
  #buf: Float64Array;
  #n = 0;

  constructor(capacity = 1024) {
    this.#buf = new Float64Array(Math.max(16, capacity));
  }

  get count(): number {
    return this.#n;
  }

  add(ms: number): void {
    if (this.#n === this.#buf.length) {
      const next = new Float64Array(this.#buf.length * 2);
      next.set(this.#buf);
      this.#buf = next;
    }
    this.#buf[this.#n++] = ms;
  }

  /** Records the time elapsed since `start` and returns it. */
  since(start: bigint): number {
    const ms = msSince(start);
    this.add(ms);
    return ms;
  }

  merge(other: Recorder): void {
    const values = other.values();
    for (let i = 0; i < values.length; i++) this.add(values[i]!);
  }

  values(): Float64Array {
    return this.#buf.subarray(0, this.#n);
  }

  summary(): LatencySummary {
    const sorted = Float64Array.from(this.values()).sort();
    let sum = 0;
    for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
    return {
      n: sorted.length,
      mean: sorted.length ? sum / sorted.length : NaN,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      p999: percentile(sorted, 0.999),
      max: sorted.length ? sorted[sorted.length - 1]! : NaN,
    };
  }
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
