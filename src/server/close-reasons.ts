// Why the server closed a connection, counted per reason and logged at a bounded rate
// so that a flood of hostile peers cannot flood the log.

import type { LogFields, Logger } from "../log.ts";

export type PolicyReason =
  | "max-conns"
  | "max-conns-per-ip"
  | "max-rate-per-ip"
  | "idle-timeout"
  | "frame-timeout"
  | "write-timeout"
  | "linger-timeout"
  | "drain-timeout"
  | "protocol-error";

export class CloseCounters {
  readonly byReason = new Map<PolicyReason, number>();
  #windowStart = 0;
  #loggedInWindow = 0;
  #suppressed = 0;

  constructor(private readonly log: Logger, private readonly maxLinesPerSecond = 20) {}

  /** Count a policy close and log it unless this second's log budget is spent. */
  record(reason: PolicyReason, fields: LogFields, now = Date.now()): void {
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    if (now - this.#windowStart >= 1000) {
      if (this.#suppressed > 0) {
        this.log.warn("policy closes not logged (rate limit)", { suppressed: this.#suppressed });
      }
      this.#windowStart = now;
      this.#loggedInWindow = 0;
      this.#suppressed = 0;
    }
    if (this.#loggedInWindow < this.maxLinesPerSecond) {
      this.#loggedInWindow++;
      this.log.warn("connection closed by policy", { reason, ...fields });
    } else {
      this.#suppressed++;
    }
  }

  get(reason: PolicyReason): number {
    return this.byReason.get(reason) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.byReason);
  }
}
