// Latency samples and their percentiles (nearest rank), for client reports and load
// generators. Exact: samples are kept (8 bytes each) and sorted once when read, which is
// cheap for the numbers a client opens (100,000 connections: 800 KB).

export interface LatencySummary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export class LatencyRecorder {
  #samples = new Float64Array(64);
  #count = 0;
  #sorted = true;

  /** Record one sample (milliseconds, from performance.now() differences). */
  add(ms: number): void {
    if (this.#count === this.#samples.length) {
      const bigger = new Float64Array(this.#samples.length * 2);
      bigger.set(this.#samples);
      this.#samples = bigger;
    }
    this.#samples[this.#count++] = ms;
    this.#sorted = false;
  }

  get count(): number {
    return this.#count;
  }

  /** The smallest sample with at least p% of the samples at or below it (p in 0..100). */
  percentile(p: number): number | undefined {
    if (this.#count === 0) return undefined;
    const s = this.#view();
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    return s[Math.min(rank, this.#count) - 1];
  }

  summary(): LatencySummary | undefined {
    if (this.#count === 0) return undefined;
    const s = this.#view();
    return {
      count: this.#count,
      min: s[0]!,
      p50: this.percentile(50)!,
      p90: this.percentile(90)!,
      p99: this.percentile(99)!,
      max: s[this.#count - 1]!,
    };
  }

  #view(): Float64Array {
    const s = this.#samples.subarray(0, this.#count);
    if (!this.#sorted) {
      s.sort();
      this.#sorted = true;
    }
    return s;
  }
}

/** Milliseconds with a precision that suits their size: 0.042, 1.25, 37.4, 1250. */
export function formatMs(ms: number): string {
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

/** "min 0.120 p50 0.310 p90 0.520 p99 0.610 max 0.612 ms (n=10)", or "none" without samples. */
export function formatSummary(s: LatencySummary | undefined): string {
  if (!s) return "none";
  return `min ${formatMs(s.min)} p50 ${formatMs(s.p50)} p90 ${formatMs(s.p90)} p99 ${formatMs(s.p99)} max ${
    formatMs(s.max)
  } ms (n=${s.count})`;
}
