// Why the server closed a connection, counted per reason and logged at a bounded rate
// so that a flood of hostile peers cannot flood the log.
//
// Counters are visible from outside the process through the log: besides one
// (rate-limited) line per policy close, a "policy close totals" line carries every
// counter, at most once a second while they change and once more at shutdown.

import type { LogFields, Logger } from "../log.ts";
import { RateLimitedLog } from "./rate-limited-log.ts";

export type PolicyReason =
  | "max-conns"
  | "max-conns-per-ip"
  | "max-rate-per-ip"
  | "idle-timeout"
  | "frame-timeout"
  | "write-timeout"
  | "linger-timeout"
  | "linger-discard"
  | "drain-timeout"
  | "protocol-error"
  // serve --proxy-protocol (src/proxy/preface.ts): no valid PROXY header, or from an untrusted source.
  | "proxy-header"
  | "proxy-untrusted"
  // A TLS connection whose handshake did not finish within handshakeMs of its TCP accept.
  | "handshake-timeout";

export const TOTALS_MESSAGE = "policy close totals";

export class CloseCounters {
  readonly byReason: Map<PolicyReason, number> = new Map();
  readonly #lines: RateLimitedLog;
  #changed = false;
  #totalsAt = -Infinity;

  constructor(private readonly log: Logger, maxLinesPerSecond = 20) {
    this.#lines = new RateLimitedLog(log, "policy closes", maxLinesPerSecond);
  }

  /** Count a policy close and log it unless this second's log budget is spent. */
  record(reason: PolicyReason, fields: LogFields, now: number = Date.now()): void {
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    this.#changed = true;
    this.#lines.write("warn", "connection closed by policy", { reason, ...fields }, now);
  }

  /** Periodic housekeeping (the server's sweep): summaries of suppressed lines, and the totals line. */
  tick(now: number): void {
    this.#lines.flush(now);
    if (this.#changed && now - this.#totalsAt >= 1000) this.logTotals(now);
  }

  /** Log every counter on one line. */
  logTotals(now: number = Date.now()): void {
    this.#changed = false;
    this.#totalsAt = now;
    this.log.info(TOTALS_MESSAGE, this.snapshot());
  }

  get(reason: PolicyReason): number {
    return this.byReason.get(reason) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.byReason);
  }
}
