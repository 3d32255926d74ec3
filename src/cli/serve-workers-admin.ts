// `serve --workers N --admin ADDR`: the supervisor serves the one admin endpoint, from the
// counts its workers report (src/workers/metrics-report.ts, summed by WorkerTotals), and
// its own view of the workers: ids, pids, restarts, who listens.

import type { AdminInfo, Lifecycle, WorkerStatus } from "../admin/status.ts";
import { buildSnapshot } from "../admin/status.ts";
import type { WorkerTotals } from "../admin/worker-totals.ts";
import type { ServerOptions } from "../server/options.ts";
import type { Supervisor } from "../workers/supervisor.ts";
import type { AdminBinding } from "./admin.ts";

export interface WorkersAdminContext {
  sup: Supervisor;
  totals: WorkerTotals;
  info: AdminInfo;
  life: Lifecycle;
  options: Readonly<ServerOptions>;
  /** The service addresses, once every worker listens. */
  listeners(): string[];
  startedAt: number;
}

function workerStatus(ctx: WorkersAdminContext, now: number): WorkerStatus[] {
  return ctx.sup.slots().map((s) => {
    const r = s.pid === undefined ? undefined : ctx.totals.last(s.id);
    const c = r && r.pid === s.pid ? r.counts : undefined;
    let closed = 0;
    for (const n of Object.values(c?.closedByReason ?? {})) closed += n;
    return {
      id: s.id,
      pid: s.pid ?? null,
      state: s.listening ? "listening" : s.pid === undefined ? "restarting" : "starting",
      uptimeSeconds: s.startedAt === undefined ? null : Math.max(0, now - s.startedAt) / 1000,
      restarts: s.restarts,
      connections: { open: c?.open ?? 0, accepted: c?.accepted ?? 0, closed },
      rssBytes: c && c.rssBytes > 0 ? c.rssBytes : null,
      reportAgeSeconds: r && c ? Math.max(0, now - r.at) / 1000 : null,
    };
  });
}

function notReady(ctx: WorkersAdminContext): string | null {
  if (ctx.life.stopping) return "draining";
  if (ctx.sup.listening() === 0) return "no worker listening";
  return null;
}

export function workersBinding(ctx: WorkersAdminContext): AdminBinding {
  return {
    totals: () => {
      const t = ctx.totals.total();
      let closed = 0;
      for (const n of Object.values(t.closedByReason)) closed += n;
      return { accepted: t.accepted, closed };
    },
    source: (history) => ({
      snapshot: () => {
        const now = Date.now();
        const t = ctx.totals.total();
        // Memory of the whole server: the supervisor's own plus every worker's.
        const rss = t.rssBytes + (ctx.info.memoryRss() ?? 0);
        return buildSnapshot({ ...t, rssBytes: rss }, {
          info: ctx.info,
          startedAt: ctx.startedAt,
          listeners: ctx.listeners(),
          options: ctx.options,
          notReadyReason: notReady(ctx),
          draining: ctx.life.stopping,
          history,
          workers: workerStatus(ctx, now),
        }, now);
      },
      notReadyReason: () => notReady(ctx),
      unhealthyReason: () => ctx.sup.listening() === 0 ? "no worker listening" : null,
    }),
  };
}
