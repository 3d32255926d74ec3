// A `serve --workers` worker's side of the admin endpoint: the supervisor serves it, and
// each worker reports its counts on its control channel (stdout) once a second. Pushing at
// a short interval rather than answering requests keeps the channel one-way (a worker's
// stdin is only its lifeline) and a scrape never waits on N processes; the price is that a
// total may be up to one interval old. A final report follows the drain, so a worker that
// stops cleanly leaves every count behind.

import type { Server } from "../server/server.ts";
import { countsOf } from "../admin/counts.ts";
import { controlLine } from "./worker-role.ts";

export const REPORT_INTERVAL_MS = 1000;

export interface MetricsReporter {
  /** Stop the timer and send one last report (call after the drain). */
  stop(): Promise<void>;
}

/** Report `server`'s counts now and every `intervalMs` through `send` (one control line each). */
export function reportMetrics(
  server: Server,
  rss: () => number | undefined,
  send: (line: string) => Promise<void>,
  intervalMs = REPORT_INTERVAL_MS,
): MetricsReporter {
  let last = "";
  let sending: Promise<void> | undefined;
  const report = (): Promise<void> => {
    const line = controlLine({ sb: "metrics", counts: countsOf(server, rss()) });
    if (line === last) return Promise.resolve(); // unchanged: nothing new to say
    last = line;
    const p = send(line).catch(() => {}).finally(() => (sending = undefined)); // supervisor gone: no one to tell
    sending = p;
    return p;
  };
  void report();
  // A tick while the last report is still being written is skipped: a slow pipe must not pile up reports.
  const timer = setInterval(() => void (sending ?? report()), intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await sending;
      await report();
    },
  };
}
