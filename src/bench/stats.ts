// What a bench run counts: completed requests with their latency (histogram), bytes,
// errors by kind (with the first few messages as examples), and a timeline of completed
// requests and errors per interval for the throughput plot. Counting starts when the
// warm-up ends (`startMeasuring`); before that, results are thrown away.

import { Histogram } from "./histogram.ts";

export const ERROR_KINDS = ["connect", "reset", "timeout", "verify", "other"] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** How many different error messages are kept as examples for the report. */
const MAX_EXAMPLES = 5;

export class BenchStats {
  readonly latency = new Histogram();
  requests = 0;
  bytesOut = 0;
  bytesIn = 0;
  readonly errors: Record<ErrorKind, number> = { connect: 0, reset: 0, timeout: 0, verify: 0, other: 0 };
  readonly examples: string[] = [];
  measuring = false;
  /** performance.now() when measuring started / stopped. */
  startMs = 0;
  endMs = 0;
  /** Width of one timeline interval in milliseconds. */
  readonly intervalMs: number;
  readonly timelineRequests: number[] = [];
  readonly timelineErrors: number[] = [];

  constructor(intervalMs: number) {
    this.intervalMs = intervalMs;
  }

  startMeasuring(now: number): void {
    this.measuring = true;
    this.startMs = now;
  }

  stopMeasuring(now: number): void {
    if (!this.measuring) return;
    this.measuring = false;
    this.endMs = now;
  }

  /** One request answered and verified: `latencyMs` from its (intended) send time. */
  done(now: number, latencyMs: number): void {
    if (!this.measuring) return;
    this.requests++;
    this.latency.record(latencyMs * 1e6);
    const slot = Math.floor((now - this.startMs) / this.intervalMs);
    this.#bump(this.timelineRequests, slot);
  }

  bytes(out: number, inn: number): void {
    if (!this.measuring) return;
    this.bytesOut += out;
    this.bytesIn += inn;
  }

  error(now: number, kind: ErrorKind, message: string): void {
    if (!this.measuring) return;
    this.errors[kind]++;
    const example = `${kind}: ${message}`;
    if (this.examples.length < MAX_EXAMPLES && !this.examples.includes(example)) this.examples.push(example);
    this.#bump(this.timelineErrors, Math.floor((now - this.startMs) / this.intervalMs));
  }

  get errorCount(): number {
    let n = 0;
    for (const k of ERROR_KINDS) n += this.errors[k];
    return n;
  }

  #bump(list: number[], slot: number): void {
    if (slot < 0) return;
    while (list.length <= slot) list.push(0);
    list[slot]!++;
  }
}
