// Read-to-EOF framing: the message is everything the peer sends before it half-closes
// (the socket guides' "end at shutdown"). decode() never yields a frame; it only
// enforces the limit. decodeEof() returns all the bytes as one frame, exactly once.
//
// EOF choice: an empty stream yields one empty frame, because "sent nothing, then
// shut down" is a real (empty) request; a request/reply service still answers it.
// The encoder writes the frame as-is; the sender must half-close afterwards.

import type { ByteQueue } from "./byte-queue.ts";
import type { Codec } from "./codec.ts";
import { FrameTooLarge } from "./errors.ts";
import { checkCount, DEFAULT_MAX_FRAME } from "./limits.ts";

export interface ReadToEofOptions {
  /** Maximum message bytes. Default 1 MiB. */
  maxLength?: number;
}

export class ReadToEofCodec implements Codec<Uint8Array> {
  readonly maxLength: number;
  #done = false;

  constructor(options: ReadToEofOptions = {}) {
    this.maxLength = checkCount("maxLength", options.maxLength ?? DEFAULT_MAX_FRAME);
  }

  decode(input: ByteQueue): Uint8Array | undefined {
    if (input.length > this.maxLength) throw new FrameTooLarge(input.length, this.maxLength, { atLeast: true });
    return undefined;
  }

  decodeEof(input: ByteQueue): Uint8Array | undefined {
    if (this.#done) return undefined;
    this.decode(input);
    this.#done = true;
    // One chunk: zero-copy; several: one copy.
    return input.take(input.length);
  }

  encode(frame: Uint8Array, out: (bytes: Uint8Array) => void): void {
    if (frame.length > this.maxLength) throw new FrameTooLarge(frame.length, this.maxLength);
    if (frame.length > 0) out(frame);
  }
}

/** The whole stream up to the peer's half-close is one frame. One instance per connection. */
export function readToEof(options: ReadToEofOptions = {}): ReadToEofCodec {
  return new ReadToEofCodec(options);
}
