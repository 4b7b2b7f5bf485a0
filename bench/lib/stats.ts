/** Timing helpers: latencies kept in a typed array (no per-sample objects) and nearest-rank percentiles. */

/** The nearest-rank percentile of ascending `sorted` values: the smallest value with at least p % at or below it. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no samples: record at least one latency first');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside (0, 100]`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** Latencies in milliseconds, grown in place. */
export class Latencies {
  private samples: Float64Array;
  private size = 0;

  constructor(capacity = 1024) {
    this.samples = new Float64Array(Math.max(1, capacity));
  }

  /** Latencies measured elsewhere (another process), in the order given. */
  static from(values: readonly number[]): Latencies {
    const latencies = new Latencies(values.length);
    for (const ms of values) latencies.add(ms);
    return latencies;
  }

  get count(): number {
    return this.size;
  }

  add(ms: number): void {
    if (this.size === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.size++] = ms;
  }

  /** Times `fn` and records its duration. */
  async time<T>(fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    const result = await fn();
    this.add(performance.now() - start);
    return result;
  }

  /** The samples in the order recorded (to send them to another process). */
  toArray(): number[] {
    return Array.from(this.samples.subarray(0, this.size));
  }

  percentiles(...ps: number[]): number[] {
    const sorted = this.samples.slice(0, this.size).sort();
    return ps.map((p) => percentile(sorted, p));
  }
}

/** Wall-clock stopwatch for throughput figures. */
export function stopwatch(): { elapsedMs(): number } {
  const start = performance.now();
  return { elapsedMs: () => performance.now() - start };
}

export function perSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
}
