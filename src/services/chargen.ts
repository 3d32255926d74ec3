// RFC 864 character generator: from the moment a peer connects, lines of 72 printable
// ASCII characters (a window sliding by one over the 95 characters from " " to "~"),
// each ended by CR LF, until the peer goes away. Input is discarded; the peer's
// half-close stops the stream (we send FIN).
//
// Backpressure: write until ctx.write returns false (the core then holds at most its
// write buffer), and resume only on drain. A peer that does not read costs nothing more.

import type { Service, Session, SessionContext } from "../server/service.ts";

const FIRST = 0x20;
const COUNT = 95;
const LINE = 72;

/** One full cycle of the pattern (95 lines of 74 bytes); every later line repeats it. */
function cycle(): Uint8Array {
  const out = new Uint8Array(COUNT * (LINE + 2));
  let at = 0;
  for (let line = 0; line < COUNT; line++) {
    for (let i = 0; i < LINE; i++) out[at++] = FIRST + ((line + i) % COUNT);
    out[at++] = 0x0d;
    out[at++] = 0x0a;
  }
  return out;
}

/** Whole cycles, so every write continues the pattern where the last one stopped (~62 KiB). */
function block(): Uint8Array {
  const one = cycle();
  const out = new Uint8Array(one.length * 9);
  for (let i = 0; i < 9; i++) out.set(one, i * one.length);
  return out;
}

let shared: Uint8Array | undefined;
/** Never modified after creation, so every connection writes the same array. */
export function chargenBlock(): Uint8Array {
  return (shared ??= block());
}

/** At most this much per event-loop turn while the socket keeps accepting, so others get a turn. */
const TURN_BUDGET = 1024 * 1024;

class ChargenSession implements Session {
  #stopped = false;
  #scheduled = false;

  constructor(private readonly ctx: SessionContext) {
    this.#later();
  }

  data(): void {}

  end(): void {
    this.#stopped = true;
    this.ctx.end();
  }

  /**
   * Resume after the next microtask, not in this call: the core checks right after
   * drain() whether a shutting-down server may close the connection, which it may only
   * when nothing is queued. Refilling synchronously would keep chargen alive until the
   * drain deadline cut it.
   */
  drain(): void {
    this.#later();
  }

  close(): void {
    this.#stopped = true;
  }

  #later(): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#pump());
  }

  #pump(): void {
    this.#scheduled = false;
    const bytes = chargenBlock();
    for (let sent = 0; sent < TURN_BUDGET; sent += bytes.length) {
      if (this.#stopped) return;
      // false: the buffer is full (wait for drain) or the connection is finishing.
      if (!this.ctx.write(bytes)) return;
    }
    // The kernel keeps taking it: continue after other connections had their turn.
    this.#scheduled = true;
    setTimeout(() => this.#pump(), 0);
  }
}

export const chargenService: Service = {
  name: "chargen",
  open: (ctx) => new ChargenSession(ctx),
};
