// A deadline on silence for one client connection: nothing sent or received for `ms`
// ends it. One timer per connection, not reset per byte: activity only stamps a time,
// and the timer, when it fires early, re-arms for what is left. Bytes leaving a write
// queue are seen by sampling a progress counter (the queue size) when the timer fires.

import { formatDuration } from "./duration.ts";

/** A connection was ended by its silence deadline. */
export class SilenceError extends Error {
  override name = "SilenceError";
  constructor(readonly ms: number) {
    super(`no bytes either way for ${formatDuration(ms)}`);
  }
}

export class SilenceTimer {
  readonly ms: number;
  #last = performance.now();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onSilent: () => void;
  #progress: (() => number) | undefined;
  #busy: (() => boolean) | undefined;
  #lastProgress: number | undefined;

  /**
   * `ms` 0 never fires. `onSilent` runs at most once. `progress` (e.g. the bytes still
   * queued for sending) counts as activity whenever it changed since the last look;
   * while `busy` is true (e.g. we stopped reading because our own output lags), the
   * quiet is ours, not the peer's, and does not count.
   */
  constructor(
    ms: number,
    onSilent: () => void,
    opts: { progress?: () => number; busy?: () => boolean } = {},
  ) {
    this.ms = ms;
    this.#onSilent = onSilent;
    this.#progress = opts.progress;
    this.#busy = opts.busy;
    this.#lastProgress = opts.progress?.();
    if (ms > 0) this.#arm(ms);
  }

  /** Bytes went one way or the other: the silence starts again. */
  touch(): void {
    this.#last = performance.now();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => {
      const now = this.#progress?.();
      if (now !== this.#lastProgress || this.#busy?.()) {
        this.#lastProgress = now;
        this.touch();
      }
      const quiet = performance.now() - this.#last;
      if (quiet >= this.ms - 1) { // timers may fire a hair early
        this.#timer = undefined;
        this.#onSilent();
      } else {
        this.#arm(this.ms - quiet);
      }
    }, delay);
  }
}
