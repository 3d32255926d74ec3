// The admin endpoint's picture of a running server, taken on demand: what /status.json
// returns and what /metrics renders (prometheus.ts). Open connections are walked only
// here, when someone asks, so the data path does no extra work (server/metrics.ts).

import { formatAddr } from "../addr.ts";
import type { Server } from "../server/server.ts";
import type { ServerOptions } from "../server/options.ts";
import { type Counts, countsOf, type HistogramData } from "./counts.ts";
import { VERSION } from "../version.ts";
import type { RateHistory } from "./history.ts";

/** What the admin endpoint knows besides the server: set once at start-up by `serve`. */
export interface AdminInfo {
  /** "node", "deno" or "bun", and the runtime's version string. */
  runtime: string;
  runtimeVersion: string;
  service: string;
  framing?: string;
  /** Resident set size in bytes, when the runtime can tell. */
  memoryRss(): number | undefined;
}

/** The stop sequence as readiness sees it: set by `serve` on the first stop signal. */
export interface Lifecycle {
  stopping: boolean;
}

export interface OpenConnection {
  id: number;
  peer: string;
  ageSeconds: number;
  bytesIn: number;
  bytesOut: number;
  queuedBytes: number;
  /** With --workers: the worker serving it. */
  worker?: number;
}

/** One worker of `serve --workers`, as the supervisor's status lists it. */
export interface WorkerStatus {
  id: number;
  /** null while the slot waits for its replacement to start. */
  pid: number | null;
  /** "listening", "starting" (spawned, not yet listening) or "restarting" (no process now). */
  state: "listening" | "starting" | "restarting";
  /** Uptime of the current process. */
  uptimeSeconds: number | null;
  /** Times this worker was replaced since the server started. */
  restarts: number;
  /** From the current process's last report (zeros before its first). */
  connections: { open: number; accepted: number; closed: number };
  rssBytes: number | null;
  /** Age of the last report, seconds (workers report every second). */
  reportAgeSeconds: number | null;
}

export interface Status {
  version: string;
  runtime: string;
  runtimeVersion: string;
  startedAt: string;
  uptimeSeconds: number;
  service: string;
  framing: string | null;
  listeners: string[];
  ready: boolean;
  /** Why not ready: "draining", "max-conns", or null. */
  notReadyReason: string | null;
  draining: boolean;
  limits: {
    maxConns: number;
    maxConnsPerIp: number;
    maxRatePerIp: number;
    idleSeconds: number;
    frameSeconds: number;
    writeSeconds: number;
  };
  connections: {
    open: number;
    accepted: number;
    refused: number;
    closed: number;
    oldestSeconds: number | null;
    /** The open connections with the most bytes (in + out), at most TOP_CONNECTIONS. */
    top: OpenConnection[];
  };
  refusedByReason: Record<string, number>;
  closedByReason: Record<string, number>;
  bytes: { received: number; sent: number; queued: number };
  frames: { received: number; sent: number };
  app: { action: string; outcome: string; count: number }[];
  memory: { rssBytes: number | null };
  history: { intervalSeconds: number; accepted: number[]; closed: number[] };
  /** With --workers only: every worker slot, in id order. */
  workers?: WorkerStatus[];
}

/** Everything /metrics needs that Status leaves out (the histograms). */
export interface Snapshot {
  status: Status;
  lifetime: HistogramData;
  appTime: HistogramData;
  startedAtSeconds: number;
}

export function notReadyReason(server: Server, life: Lifecycle): string | null {
  if (life.stopping || server.draining) return "draining";
  if (server.connections >= server.options.maxConns) return "max-conns";
  return null;
}

/** A single process's snapshot: its own server's counts. */
export function snapshot(server: Server, info: AdminInfo, life: Lifecycle, history: RateHistory): Snapshot {
  const m = server.metrics;
  if (!m) throw new Error("the admin endpoint needs a Server created with `metrics`");
  return buildSnapshot(countsOf(server, info.memoryRss()), {
    info,
    startedAt: m.startedAt,
    listeners: server.listeners.map((l) => formatAddr(l.addr)),
    options: server.options,
    notReadyReason: notReadyReason(server, life),
    draining: life.stopping || server.draining,
    history,
  });
}

/** Everything a Status says besides the counts. */
export interface StatusContext {
  info: Pick<AdminInfo, "runtime" | "runtimeVersion" | "service" | "framing">;
  /** ms since the epoch. */
  startedAt: number;
  listeners: string[];
  options: Readonly<ServerOptions>;
  notReadyReason: string | null;
  draining: boolean;
  history: RateHistory;
  workers?: WorkerStatus[];
}

export function buildSnapshot(c: Counts, ctx: StatusContext, now = Date.now()): Snapshot {
  let closed = 0;
  for (const n of Object.values(c.closedByReason)) closed += n;
  const o = ctx.options;
  const age = (t: number) => Math.max(0, now - t) / 1000;
  return {
    lifetime: c.lifetime,
    appTime: c.appTime,
    startedAtSeconds: ctx.startedAt / 1000,
    status: {
      version: VERSION,
      runtime: ctx.info.runtime,
      runtimeVersion: ctx.info.runtimeVersion,
      startedAt: new Date(ctx.startedAt).toISOString(),
      uptimeSeconds: age(ctx.startedAt),
      service: ctx.info.service,
      framing: ctx.info.framing ?? null,
      listeners: ctx.listeners,
      ready: ctx.notReadyReason === null,
      notReadyReason: ctx.notReadyReason,
      draining: ctx.draining,
      limits: {
        maxConns: o.maxConns,
        maxConnsPerIp: o.maxConnsPerIp,
        maxRatePerIp: o.maxRatePerIp,
        idleSeconds: o.idleMs / 1000,
        frameSeconds: o.frameMs / 1000,
        writeSeconds: o.writeMs / 1000,
      },
      connections: {
        open: c.open,
        accepted: c.accepted,
        refused: c.refused,
        closed,
        oldestSeconds: c.oldestOpenedAt === null ? null : age(c.oldestOpenedAt),
        top: c.top.map((t) => ({
          id: t.id,
          peer: t.peer,
          ageSeconds: age(t.openedAt),
          bytesIn: t.bytesIn,
          bytesOut: t.bytesOut,
          queuedBytes: t.queuedBytes,
          ...(t.worker !== undefined ? { worker: t.worker } : {}),
        })),
      },
      refusedByReason: { ...c.refusedByReason },
      closedByReason: { ...c.closedByReason },
      bytes: { received: c.bytesIn, sent: c.bytesOut, queued: c.queued },
      frames: { received: c.framesIn, sent: c.framesOut },
      app: Object.entries(c.app).map(([key, count]) => {
        const [action, outcome] = key.split(" ");
        return { action: action!, outcome: outcome!, count };
      }),
      memory: { rssBytes: c.rssBytes > 0 ? c.rssBytes : null },
      history: ctx.history.series(),
      ...(ctx.workers ? { workers: ctx.workers } : {}),
    },
  };
}
