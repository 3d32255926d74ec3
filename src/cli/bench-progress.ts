// The live progress line of `bench` on a terminal's stderr: elapsed time, request rate over
// the last second, errors and p99 so far, redrawn in place once a second. Not drawn when
// stderr is a pipe or file (a log would fill with carriage returns).

import type { StdOutput } from "../host.ts";
import type { BenchStats } from "../bench/stats.ts";
import { formatUs } from "../bench/report.ts";

export class ProgressLine {
  readonly #out: StdOutput;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastRequests = 0;
  #lastAt = 0;
  #drawn = false;

  constructor(out: StdOutput) {
    this.#out = out;
  }

  start(stats: BenchStats): void {
    if (!this.#out.isTerminal()) return;
    this.#lastAt = performance.now();
    this.#timer = setInterval(() => this.#draw(stats), 1000);
  }

  #draw(stats: BenchStats): void {
    const now = performance.now();
    const rate = ((stats.requests - this.#lastRequests) * 1000) / Math.max(1, now - this.#lastAt);
    this.#lastRequests = stats.requests;
    this.#lastAt = now;
    const elapsed = stats.measuring ? ((now - stats.startMs) / 1000).toFixed(0) + "s" : "warm-up";
    const p99 = stats.latency.count > 0 ? formatUs(stats.latency.percentile(99) / 1000) : "-";
    const line = `${elapsed}  ${Math.round(rate)} req/s  errors ${stats.errorCount}  p99 ${p99}`;
    this.#drawn = true;
    void this.#out.write(`\r\x1b[K${line}`);
  }

  /** Stop redrawing and clear the line. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#drawn) await this.#out.write("\r\x1b[K");
  }
}
