// Delimiter-terminated framing: frames end with a byte sequence (default "\n").
// Frames exclude the delimiter; the encoder appends it.
//
// EOF choice: a trailing unterminated line is returned as a final frame, like most line
// protocols reading to EOF (a file without a final newline still has a last line).
// Limits: maxLength bounds the frame without its delimiter. In "error" mode the decoder
// throws FrameTooLarge as soon as the buffered bytes cannot start a delimiter within the
// limit, so it never holds more than maxLength + delimiter length - 1 bytes (plus one
// for a tolerated "\r" with stripCr). In "discard" mode it drops the overlong frame up to
// the next delimiter, counts it in `discarded`, and carries on.

import type { ByteQueue } from "./byte-queue.ts";
import type { Codec } from "./codec.ts";
import { emitWithTrailer } from "./emit.ts";
import { FrameTooLarge, MalformedFrame } from "./errors.ts";
import { checkCount, DEFAULT_MAX_FRAME } from "./limits.ts";

const CR = 0x0d;
const LF = 0x0a;

export interface DelimitedOptions {
  /** Any non-empty byte sequence; a string is UTF-8 encoded. Default "\n". */
  delimiter?: Uint8Array | string;
  /** Maximum frame length in bytes, delimiter excluded. Default 1 MiB. */
  maxLength?: number;
  /** With delimiter "\n": also accept "\r\n" by dropping a "\r" before the "\n". */
  stripCr?: boolean;
  /** What to do with a frame over maxLength. Default "error". */
  onOverflow?: "error" | "discard";
}

export class DelimitedCodec implements Codec<Uint8Array> {
  readonly delimiter: Uint8Array;
  readonly maxLength: number;
  readonly stripCr: boolean;
  readonly onOverflow: "error" | "discard";
  #discarded = 0;
  #discarding = false; // dropping the rest of an overlong frame until the next delimiter
  #scanFrom = 0; // no delimiter starts before this queue index (saves rescans while bytes trickle in)
  #rawLimit: number; // longest raw frame before the delimiter (maxLength, +1 for a stripped "\r")

  constructor(options: DelimitedOptions = {}) {
    const d = options.delimiter ?? "\n";
    // Copied: the caller may reuse its array, and this one is handed out by the encoder.
    this.delimiter = typeof d === "string" ? new TextEncoder().encode(d) : d.slice();
    if (this.delimiter.length === 0) throw new RangeError("delimiter must not be empty");
    this.maxLength = checkCount("maxLength", options.maxLength ?? DEFAULT_MAX_FRAME);
    this.stripCr = options.stripCr ?? false;
    if (this.stripCr && !(this.delimiter.length === 1 && this.delimiter[0] === LF)) {
      throw new RangeError('stripCr only applies to the delimiter "\\n"');
    }
    const mode = options.onOverflow ?? "error";
    if (mode !== "error" && mode !== "discard") {
      throw new RangeError(`onOverflow must be "error" or "discard", got ${String(mode)}`);
    }
    this.onOverflow = mode;
    this.#rawLimit = this.maxLength + (this.stripCr ? 1 : 0);
  }

  /** Overlong frames dropped so far ("discard" mode). */
  get discarded(): number {
    return this.#discarded;
  }

  decode(input: ByteQueue): Uint8Array | undefined {
    const dl = this.delimiter.length;
    for (;;) {
      const from = this.#scanFrom <= input.length ? this.#scanFrom : 0;
      const i = input.indexOf(this.delimiter, from);
      if (i < 0) return this.#noDelimiter(input);
      this.#scanFrom = 0;
      if (this.#discarding) {
        input.skip(i + dl);
        this.#discarding = false;
        continue;
      }
      const len = this.stripCr && i > 0 && input.byteAt(i - 1) === CR ? i - 1 : i;
      if (len > this.maxLength) {
        if (this.onOverflow === "error") throw new FrameTooLarge(len, this.maxLength);
        input.skip(i + dl);
        this.#discarded++;
        continue;
      }
      const frame = input.take(len);
      input.skip(i - len + dl);
      return frame;
    }
  }

  decodeEof(input: ByteQueue): Uint8Array | undefined {
    const frame = this.decode(input);
    if (frame !== undefined) return frame;
    const n = input.length;
    if (n === 0) return undefined;
    this.#scanFrom = 0;
    if (this.#discarding) {
      // The tail of an overlong frame that was already counted.
      input.skip(n);
      this.#discarding = false;
      return undefined;
    }
    // Trailing unterminated line: the final frame (see the note at the top).
    const len = this.stripCr && input.byteAt(n - 1) === CR ? n - 1 : n;
    if (len > this.maxLength) {
      if (this.onOverflow === "error") throw new FrameTooLarge(len, this.maxLength);
      input.skip(n);
      this.#discarded++;
      return undefined;
    }
    const last = input.take(len);
    input.skip(n - len);
    return last;
  }

  encode(frame: Uint8Array, out: (bytes: Uint8Array) => void): void {
    if (frame.length > this.maxLength) throw new FrameTooLarge(frame.length, this.maxLength);
    if (!this.canCarry(frame)) {
      throw new MalformedFrame(
        `frame contains the delimiter ${hex(this.delimiter)} (or would form it with the appended one)`,
      );
    }
    if (this.stripCr && frame.length > 0 && frame[frame.length - 1] === CR) {
      throw new MalformedFrame('frame ends with "\\r", which the stripCr decoder would drop');
    }
    emitWithTrailer(out, frame, this.delimiter);
  }

  /**
   * True when frame + delimiter decodes back to exactly `frame`: the delimiter must not
   * occur inside the frame, nor start inside it and end inside the appended delimiter.
   */
  canCarry(frame: Uint8Array): boolean {
    const d = this.delimiter;
    const dl = d.length;
    if (indexOfSeq(frame, d) >= 0) return false;
    // A suffix of the frame followed by a prefix of the delimiter equal to the delimiter.
    for (let p = Math.max(0, frame.length - dl + 1); p < frame.length; p++) {
      let k = 0;
      while (k < dl && (p + k < frame.length ? frame[p + k] : d[p + k - frame.length]) === d[k]) k++;
      if (k === dl) return false;
    }
    return true;
  }

  #noDelimiter(input: ByteQueue): undefined {
    const n = input.length;
    const dl = this.delimiter.length;
    if (this.#discarding) {
      // Keep only what could be the start of the delimiter.
      input.skip(n - Math.min(n, dl - 1));
      this.#scanFrom = 0;
      return undefined;
    }
    // A delimiter could still start at index <= rawLimit only if fewer bytes are buffered.
    if (n >= this.#rawLimit + dl) {
      const atLeast = n - dl + 1 - (this.stripCr ? 1 : 0);
      if (this.onOverflow === "error") throw new FrameTooLarge(atLeast, this.maxLength, { atLeast: true });
      this.#discarded++;
      this.#discarding = true;
      input.skip(n - (dl - 1));
      this.#scanFrom = 0;
      return undefined;
    }
    this.#scanFrom = Math.max(0, n - dl + 1);
    return undefined;
  }
}

/** Frames terminated by a delimiter (default "\n"). One instance per connection. */
export function delimited(options: DelimitedOptions = {}): DelimitedCodec {
  return new DelimitedCodec(options);
}

// First index of seq in hay: native indexOf for the first byte, then a short compare.
function indexOfSeq(hay: Uint8Array, seq: Uint8Array): number {
  const m = seq.length;
  const first = seq[0]!;
  let pos = hay.indexOf(first);
  while (pos >= 0 && pos + m <= hay.length) {
    let k = 1;
    while (k < m && hay[pos + k] === seq[k]) k++;
    if (k === m) return pos;
    pos = hay.indexOf(first, pos + 1);
  }
  return -1;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}
