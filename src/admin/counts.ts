// A server's counts as plain data: what one process measures (taken on demand from a
// Server), what a `serve --workers` worker sends its supervisor on a control line, and what
// the supervisor adds up across workers. Plain numbers and records only, so that it
// survives JSON unchanged and two of them can be summed.

import type { Server } from "../server/server.ts";
import { END_REASONS, LIFETIME_BUCKETS, REFUSAL_REASONS, REQUEST_BUCKETS } from "../server/metrics.ts";

/** The part of a Histogram that rendering and summing read. */
export interface HistogramData {
  readonly bounds: readonly number[];
  /** Per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** An open connection as the status page lists it. */
export interface TopConnection {
  id: number;
  peer: string;
  /** When it was accepted, ms since the epoch. */
  openedAt: number;
  bytesIn: number;
  bytesOut: number;
  queuedBytes: number;
  /** The worker serving it (filled in by the supervisor). */
  worker?: number;
}

export interface Counts {
  accepted: number;
  /** Refused by an admission limit (ServerStats.refused); PROXY refusals are only in refusedByReason. */
  refused: number;
  refusedByReason: Record<string, number>;
  closedByReason: Record<string, number>;
  /** Gauges: true of this moment only. */
  open: number;
  queued: number;
  oldestOpenedAt: number | null;
  top: TopConnection[];
  /** Resident set size in bytes; 0 when the runtime cannot tell. */
  rssBytes: number;
  /** Counters: bytes and frames of closed and open connections. */
  bytesIn: number;
  bytesOut: number;
  framesIn: number;
  framesOut: number;
  /** App requests per "action outcome" key. */
  app: Record<string, number>;
  lifetime: HistogramData;
  appTime: HistogramData;
}

/** The open connections with the most bytes that a status lists. */
export const TOP_CONNECTIONS = 10;

function emptyHistogram(bounds: readonly number[]): HistogramData {
  return { bounds, counts: new Array(bounds.length + 1).fill(0), sum: 0, count: 0 };
}

function zeros(keys: readonly string[]): Record<string, number> {
  return Object.fromEntries(keys.map((k) => [k, 0]));
}

/** Nothing counted yet: every reason present with 0. */
export function emptyCounts(extraClosedReasons: readonly string[] = []): Counts {
  return {
    accepted: 0,
    refused: 0,
    refusedByReason: zeros(REFUSAL_REASONS),
    closedByReason: zeros([...END_REASONS, ...extraClosedReasons]),
    open: 0,
    queued: 0,
    oldestOpenedAt: null,
    top: [],
    rssBytes: 0,
    bytesIn: 0,
    bytesOut: 0,
    framesIn: 0,
    framesOut: 0,
    app: {},
    lifetime: emptyHistogram(LIFETIME_BUCKETS),
    appTime: emptyHistogram(REQUEST_BUCKETS),
  };
}

/** The counts of `server` now (it must have been created with `metrics`); open connections are walked here. */
export function countsOf(server: Server, rssBytes: number | undefined): Counts {
  const m = server.metrics;
  if (!m) throw new Error("the admin endpoint needs a Server created with `metrics`");
  const stats = server.stats();
  const c = emptyCounts();
  c.accepted = stats.accepted;
  c.refused = stats.refused;
  c.open = stats.connections;
  c.rssBytes = rssBytes ?? 0;
  c.bytesIn = m.closedBytesIn;
  c.bytesOut = m.closedBytesOut;
  c.framesIn = m.closedFramesIn;
  c.framesOut = m.closedFramesOut;
  const open: TopConnection[] = [];
  for (const v of server.openConnections()) {
    const n = v.counts();
    const q = v.conn.queued;
    c.bytesIn += n.bytesIn;
    c.bytesOut += n.bytesOut;
    c.framesIn += n.framesIn;
    c.framesOut += n.framesOut;
    c.queued += q;
    if (c.oldestOpenedAt === null || v.openedAt < c.oldestOpenedAt) c.oldestOpenedAt = v.openedAt;
    open.push({
      id: v.conn.id,
      peer: v.peer,
      openedAt: v.openedAt,
      bytesIn: n.bytesIn,
      bytesOut: n.bytesOut,
      queuedBytes: q,
    });
  }
  c.top = topOf(open);
  for (const r of REFUSAL_REASONS) c.refusedByReason[r] = server.counters.get(r);
  for (const r of END_REASONS) c.closedByReason[r] = m.closed.get(r) ?? 0;
  c.app = Object.fromEntries(m.appRequests);
  c.lifetime = m.lifetime;
  c.appTime = m.appTime;
  return c;
}

function topOf(open: TopConnection[]): TopConnection[] {
  return open.sort((a, b) => b.bytesIn + b.bytesOut - (a.bytesIn + a.bytesOut)).slice(0, TOP_CONNECTIONS);
}

function addRecords(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function addHistograms(a: HistogramData, b: HistogramData): HistogramData {
  if (a.counts.length !== b.counts.length) throw new Error("histograms with different buckets");
  return {
    bounds: a.bounds,
    counts: a.counts.map((n, i) => n + b.counts[i]!),
    sum: a.sum + b.sum,
    count: a.count + b.count,
  };
}

/** a + b: counters and gauges summed, the oldest of the two oldest, the top of both lists. */
export function addCounts(a: Counts, b: Counts): Counts {
  const oldest = [a.oldestOpenedAt, b.oldestOpenedAt].filter((t): t is number => t !== null);
  return {
    accepted: a.accepted + b.accepted,
    refused: a.refused + b.refused,
    refusedByReason: addRecords(a.refusedByReason, b.refusedByReason),
    closedByReason: addRecords(a.closedByReason, b.closedByReason),
    open: a.open + b.open,
    queued: a.queued + b.queued,
    oldestOpenedAt: oldest.length ? Math.min(...oldest) : null,
    top: topOf([...a.top, ...b.top]),
    rssBytes: a.rssBytes + b.rssBytes,
    bytesIn: a.bytesIn + b.bytesIn,
    bytesOut: a.bytesOut + b.bytesOut,
    framesIn: a.framesIn + b.framesIn,
    framesOut: a.framesOut + b.framesOut,
    app: addRecords(a.app, b.app),
    lifetime: addHistograms(a.lifetime, b.lifetime),
    appTime: addHistograms(a.appTime, b.appTime),
  };
}

/**
 * What stays of a process's counts once it has exited: its counters (so totals never go
 * backwards), without its gauges. Its connections still open at its last report ended with
 * it: they are counted as closed for `reason`, so accepted - closed = open still holds.
 */
export function retire(c: Counts, reason: string): Counts {
  return {
    ...c,
    closedByReason: addRecords(c.closedByReason, { [reason]: c.open }),
    open: 0,
    queued: 0,
    oldestOpenedAt: null,
    top: [],
    rssBytes: 0,
  };
}

// Checking a control line's counts: it comes from our own worker, but a line that is not
// what we expect must not become NaN in every later total.

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}

function isRecord(v: unknown): v is Record<string, number> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every(isCount);
}

function isHistogram(v: unknown, bounds: readonly number[]): v is HistogramData {
  const h = v as HistogramData;
  return typeof h === "object" && h !== null && Array.isArray(h.counts) && h.counts.length === bounds.length + 1 &&
    h.counts.every(isCount) && isCount(h.sum) && isCount(h.count);
}

/** `v` as Counts when it has their shape, else undefined. */
export function parseCounts(v: unknown): Counts | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const c = v as Counts;
  const numbers = [c.accepted, c.refused, c.open, c.queued, c.rssBytes, c.bytesIn, c.bytesOut, c.framesIn, c.framesOut];
  if (!numbers.every(isCount)) return undefined;
  if (![c.refusedByReason, c.closedByReason, c.app].every(isRecord)) return undefined;
  if (c.oldestOpenedAt !== null && !isCount(c.oldestOpenedAt)) return undefined;
  if (!Array.isArray(c.top)) return undefined;
  if (!isHistogram(c.lifetime, LIFETIME_BUCKETS) || !isHistogram(c.appTime, REQUEST_BUCKETS)) return undefined;
  return {
    ...c,
    top: c.top.filter((t) => typeof t?.peer === "string" && isCount(t.openedAt)).slice(0, TOP_CONNECTIONS),
    lifetime: { ...c.lifetime, bounds: LIFETIME_BUCKETS },
    appTime: { ...c.appTime, bounds: REQUEST_BUCKETS },
  };
}
