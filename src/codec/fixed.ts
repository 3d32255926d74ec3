// Fixed-length framing: every frame is exactly n bytes, with nothing around it.

import type { ByteQueue } from "./byte-queue.ts";
import { strictDecodeEof } from "./codec.ts";
import type { Codec } from "./codec.ts";
import { MalformedFrame } from "./errors.ts";
import { checkCount } from "./limits.ts";

export class FixedLengthCodec implements Codec<Uint8Array> {
  readonly size: number;

  constructor(size: number) {
    // n = 0 would yield empty frames forever without consuming anything.
    this.size = checkCount("fixedLength size", size, 1);
  }

  decode(input: ByteQueue): Uint8Array | undefined {
    return input.length >= this.size ? input.take(this.size) : undefined;
  }

  decodeEof(input: ByteQueue): Uint8Array | undefined {
    return strictDecodeEof(this, input);
  }

  encode(frame: Uint8Array, out: (bytes: Uint8Array) => void): void {
    if (frame.length !== this.size) {
      throw new MalformedFrame(`fixed-length frame must be ${this.size} bytes, got ${frame.length}`);
    }
    out(frame);
  }
}

/** Frames of exactly `size` bytes. */
export function fixedLength(size: number): FixedLengthCodec {
  return new FixedLengthCodec(size);
}
