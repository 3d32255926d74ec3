// What the admin endpoint (src/admin/) reports beyond ServerStats: connections closed per
// reason with their lifetime, bytes and frames of closed connections, and app requests.
//
// Counting is cheap by construction: each connection already keeps its own byte and
// frame counts (connection.ts); they are added here once, when it closes, and the open
// connections' counts are summed only when someone asks (a scrape). Nothing here runs
// per byte, per chunk or on a timer.

import type { EndReason } from "./connection.ts";
import type { Conn } from "../transport.ts";

/** Connection lifetime buckets (seconds): from a quick probe to an hour-long session. */
export const LIFETIME_BUCKETS = [0.005, 0.05, 0.25, 1, 5, 15, 60, 300, 1800, 3600] as const;
/** App request time buckets (seconds): the standard handler answers in microseconds. */
export const REQUEST_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.05, 0.25, 1] as const;

/**
 * Refusals before a connection is admitted (counted by CloseCounters; it never opens): the
 * admission limits, and with --proxy-protocol a source not trusted or a bad PROXY header.
 */
export const REFUSAL_REASONS = [
  "max-conns",
  "max-conns-per-ip",
  "max-rate-per-ip",
  "proxy-untrusted",
  "proxy-header",
] as const;

/** Every way an admitted connection can end: the type checker fails here when one is added and not listed. */
const ADMITTED_END: Record<Exclude<EndReason, (typeof REFUSAL_REASONS)[number]>, true> = {
  "peer-closed": true,
  "peer-reset": true,
  "error": true,
  "server-closed": true,
  "shutdown": true,
  "idle-timeout": true,
  "frame-timeout": true,
  "write-timeout": true,
  "linger-timeout": true,
  "linger-discard": true,
  "drain-timeout": true,
  "protocol-error": true,
  "handshake-timeout": true,
};

/** Why an admitted connection ended, every value (the metrics list all of them, zeros included). */
export const END_REASONS = Object.keys(ADMITTED_END) as readonly EndReason[];

/** A Prometheus-style histogram: cumulative only when rendered, plain per-bucket counts here. */
export class Histogram {
  /** counts[i]: observations <= bounds[i] and > bounds[i-1]; the last slot is +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array(bounds.length + 1).fill(0);
  }

  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

/** One app request's outcome, as the metrics label it. */
export interface AppRequestRecord {
  /** "search", "echo", "binary", or "other" for any action not known (bounded label values). */
  action: string;
  /** "ok", "no-match", "invalid-action", "bad-request" or "internal-error". */
  outcome: string;
  seconds: number;
}

export class ServerMetrics {
  /** Connections closed, per reason (admission refusals are counted by CloseCounters). */
  readonly closed: Map<EndReason, number> = new Map();
  /** Bytes and frames of connections that have closed (open ones are summed on demand). */
  closedBytesIn = 0;
  closedBytesOut = 0;
  closedFramesIn = 0;
  closedFramesOut = 0;
  readonly lifetime: Histogram = new Histogram(LIFETIME_BUCKETS);
  /** App requests per "action outcome" key. */
  readonly appRequests: Map<string, number> = new Map();
  readonly appTime: Histogram = new Histogram(REQUEST_BUCKETS);
  /** When the server (or its metrics) started, ms since the epoch. */
  readonly startedAt: number = Date.now();

  connectionClosed(reason: EndReason, seconds: number, c: ConnectionCounts): void {
    this.closed.set(reason, (this.closed.get(reason) ?? 0) + 1);
    this.lifetime.observe(seconds);
    this.closedBytesIn += c.bytesIn;
    this.closedBytesOut += c.bytesOut;
    this.closedFramesIn += c.framesIn;
    this.closedFramesOut += c.framesOut;
  }

  appRequest(r: AppRequestRecord): void {
    const key = `${r.action} ${r.outcome}`;
    this.appRequests.set(key, (this.appRequests.get(key) ?? 0) + 1);
    this.appTime.observe(r.seconds);
  }
}

/** What the admin endpoint reads of an open connection (`Server.openConnections()`). */
export interface ConnectionView {
  readonly conn: Conn;
  /** The peer's address as logs print it. */
  readonly peer: string;
  /** When it was accepted (ms since the epoch). */
  readonly openedAt: number;
  counts(): ConnectionCounts;
}

/** A connection's own running counts. */
export interface ConnectionCounts {
  bytesIn: number;
  bytesOut: number;
  framesIn: number;
  framesOut: number;
}
