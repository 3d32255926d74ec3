// The admin endpoint's picture of a running server, taken on demand: what /status.json
// returns and what /metrics renders (prometheus.ts). Open connections are walked only
// here, when someone asks, so the data path does no extra work (server/metrics.ts).

import { formatAddr } from "../addr.ts";
import type { Server } from "../server/server.ts";
import { END_REASONS, type Histogram, REFUSAL_REASONS } from "../server/metrics.ts";
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
}

export const TOP_CONNECTIONS = 10;

/** Everything /metrics needs that Status leaves out (the histograms). */
export interface Snapshot {
  status: Status;
  lifetime: Histogram;
  appTime: Histogram;
  startedAtSeconds: number;
}

export function notReadyReason(server: Server, life: Lifecycle): string | null {
  if (life.stopping || server.draining) return "draining";
  if (server.connections >= server.options.maxConns) return "max-conns";
  return null;
}

export function snapshot(server: Server, info: AdminInfo, life: Lifecycle, history: RateHistory): Snapshot {
  const now = Date.now();
  const m = server.metrics;
  if (!m) throw new Error("the admin endpoint needs a Server created with `metrics`");
  const stats = server.stats();
  let received = m.closedBytesIn, sent = m.closedBytesOut, framesIn = m.closedFramesIn, framesOut = m.closedFramesOut;
  let queued = 0;
  let oldest: number | undefined;
  const open: OpenConnection[] = [];
  for (const c of server.openConnections()) {
    const n = c.counts();
    const q = c.conn.queued;
    received += n.bytesIn;
    sent += n.bytesOut;
    framesIn += n.framesIn;
    framesOut += n.framesOut;
    queued += q;
    if (oldest === undefined || c.openedAt < oldest) oldest = c.openedAt;
    open.push({
      id: c.conn.id,
      peer: c.peer,
      ageSeconds: (now - c.openedAt) / 1000,
      bytesIn: n.bytesIn,
      bytesOut: n.bytesOut,
      queuedBytes: q,
    });
  }
  open.sort((a, b) => b.bytesIn + b.bytesOut - (a.bytesIn + a.bytesOut));
  const refusedByReason: Record<string, number> = {};
  for (const r of REFUSAL_REASONS) refusedByReason[r] = server.counters.get(r);
  const closedByReason: Record<string, number> = {};
  let closed = 0;
  for (const r of END_REASONS) {
    closedByReason[r] = m.closed.get(r) ?? 0;
    closed += closedByReason[r]!;
  }
  const o = server.options;
  const reason = notReadyReason(server, life);
  const rss = info.memoryRss();
  return {
    lifetime: m.lifetime,
    appTime: m.appTime,
    startedAtSeconds: m.startedAt / 1000,
    status: {
      version: VERSION,
      runtime: info.runtime,
      runtimeVersion: info.runtimeVersion,
      startedAt: new Date(m.startedAt).toISOString(),
      uptimeSeconds: (now - m.startedAt) / 1000,
      service: info.service,
      framing: info.framing ?? null,
      listeners: server.listeners.map((l) => formatAddr(l.addr)),
      ready: reason === null,
      notReadyReason: reason,
      draining: life.stopping || server.draining,
      limits: {
        maxConns: o.maxConns,
        maxConnsPerIp: o.maxConnsPerIp,
        maxRatePerIp: o.maxRatePerIp,
        idleSeconds: o.idleMs / 1000,
        frameSeconds: o.frameMs / 1000,
        writeSeconds: o.writeMs / 1000,
      },
      connections: {
        open: stats.connections,
        accepted: stats.accepted,
        refused: stats.refused,
        closed,
        oldestSeconds: oldest === undefined ? null : (now - oldest) / 1000,
        top: open.slice(0, TOP_CONNECTIONS),
      },
      refusedByReason,
      closedByReason,
      bytes: { received, sent, queued },
      frames: { received: framesIn, sent: framesOut },
      app: [...m.appRequests].map(([key, count]) => {
        const [action, outcome] = key.split(" ");
        return { action: action!, outcome: outcome!, count };
      }),
      memory: { rssBytes: rss ?? null },
      history: history.series(),
    },
  };
}
