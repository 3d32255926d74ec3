// The supervisor's sums of its workers' counts (serve --workers with --admin). It keeps
// each worker's last report; when a worker's process exits, the counters of its last
// report are kept (retired), so that totals never go backwards (Prometheus counters must
// not), and its gauges go. Its connections open at that report ended with it: they count
// as closed for the reason "worker-exit".

import { addCounts, type Counts, emptyCounts, retire } from "./counts.ts";

export const WORKER_EXIT_REASON = "worker-exit";

export interface WorkerReport {
  pid: number;
  counts: Counts;
  /** When it arrived (ms since the epoch). */
  at: number;
}

export class WorkerTotals {
  #retired: Counts = emptyCounts([WORKER_EXIT_REASON]);
  readonly #live = new Map<number, WorkerReport>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Worker `id`'s process `pid` reported `counts` (its own totals since it started). */
  report(id: number, pid: number, counts: Counts): void {
    this.#live.set(id, { pid, counts, at: this.now() });
  }

  /** Worker `id`'s process `pid` has exited: keep its counters, drop its gauges. */
  exited(id: number, pid: number): void {
    const r = this.#live.get(id);
    if (!r || r.pid !== pid) return;
    this.#live.delete(id);
    this.#retired = addCounts(this.#retired, retire(r.counts, WORKER_EXIT_REASON));
  }

  /** The last report of worker `id`'s current process, if it has sent one. */
  last(id: number): WorkerReport | undefined {
    return this.#live.get(id);
  }

  /** Everything counted by every worker process so far, exited ones included. */
  total(): Counts {
    let sum = this.#retired;
    for (const [id, r] of this.#live) {
      sum = addCounts(sum, { ...r.counts, top: r.counts.top.map((t) => ({ ...t, worker: id })) });
    }
    return sum;
  }
}
