// Accept and close counts per interval over the last minutes, for the status page's
// charts: one timer for the whole endpoint samples two running totals.

export const HISTORY_INTERVAL_MS = 5000;
/** 10 minutes of 5-second points. */
export const HISTORY_POINTS = 120;

export class RateHistory {
  readonly #accepted: number[] = [];
  readonly #closed: number[] = [];
  #lastAccepted: number;
  #lastClosed: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly totals: () => { accepted: number; closed: number },
    private readonly intervalMs = HISTORY_INTERVAL_MS,
    private readonly points = HISTORY_POINTS,
  ) {
    const t = totals();
    this.#lastAccepted = t.accepted;
    this.#lastClosed = t.closed;
  }

  start(): void {
    this.#timer ??= setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Close the current interval: append how many connections were accepted and closed in it. */
  sample(): void {
    const t = this.totals();
    push(this.#accepted, t.accepted - this.#lastAccepted, this.points);
    push(this.#closed, t.closed - this.#lastClosed, this.points);
    this.#lastAccepted = t.accepted;
    this.#lastClosed = t.closed;
  }

  /** Oldest first; per interval counts. */
  series(): { intervalSeconds: number; accepted: number[]; closed: number[] } {
    return { intervalSeconds: this.intervalMs / 1000, accepted: [...this.#accepted], closed: [...this.#closed] };
  }
}

function push(a: number[], v: number, max: number): void {
  a.push(v);
  if (a.length > max) a.shift();
}
