// A log channel with a per-second line budget, so hostile peers (a flood of refusals,
// resets or accept errors) cannot turn the log into the bottleneck or fill the disk.
// Lines over the budget are counted and reported as one summary line later.

import type { LogFields, Logger, LogLevel } from "../log.ts";

export class RateLimitedLog {
  #windowStart = -Infinity;
  #inWindow = 0;
  #suppressed = 0;

  constructor(
    private readonly log: Logger,
    /** What the summary line calls the suppressed lines, e.g. "policy closes". */
    private readonly what: string,
    private readonly maxLinesPerSecond = 20,
  ) {}

  /** Log one line unless this second's budget is spent. */
  write(level: LogLevel, msg: string, fields: LogFields, now: number): void {
    this.flush(now);
    if (this.#inWindow < this.maxLinesPerSecond) {
      this.#inWindow++;
      this.log.log(level, msg, fields);
    } else {
      this.#suppressed++;
    }
  }

  /** Close a finished window: report what it suppressed. Also called from a timer, so a burst's summary is not lost when the burst ends. */
  flush(now: number): void {
    if (now - this.#windowStart < 1000) return;
    if (this.#suppressed > 0) {
      this.log.warn(`${this.what} not logged (rate limit)`, { suppressed: this.#suppressed });
    }
    this.#windowStart = now;
    this.#inWindow = 0;
    this.#suppressed = 0;
  }
}
