// What a stop signal means to a server (`switchboard serve`, and `serve()` with
// handleSignals): the first asks for a graceful drain, a later one cuts every connection
// now. A repeat within a moment of the first is the same request delivered twice, not a
// second one: a wrapper such as `deno task` forwards the terminal's Ctrl-C to a child
// that already got it from its process group.

/** Signals closer together than this count as one delivery. */
export const REPEAT_WINDOW_MS = 500;

export type StopAction = "drain" | "repeat" | "abort";

export class StopSignals {
  #firstAt: number | undefined;

  /** Classify a signal that arrived at `now` (ms). */
  receive(now: number): StopAction {
    if (this.#firstAt === undefined) {
      this.#firstAt = now;
      return "drain";
    }
    return now - this.#firstAt < REPEAT_WINDOW_MS ? "repeat" : "abort";
  }
}
