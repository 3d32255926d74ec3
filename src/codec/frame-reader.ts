// FrameReader: a ByteQueue plus a decoder, for services that just want
// "here are the bytes that arrived, give me the frames".

import { ByteQueue } from "./byte-queue.ts";
import { decodeAll, decodeEofAll } from "./codec.ts";
import type { Decoder } from "./codec.ts";

export class FrameReader<F> {
  readonly queue: ByteQueue = new ByteQueue();
  readonly decoder: Decoder<F>;
  #ended = false;

  constructor(decoder: Decoder<F>) {
    this.decoder = decoder;
  }

  /** Bytes received but not yet part of a returned frame. */
  get buffered(): number {
    return this.queue.length;
  }

  /** True once end() was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Adds a received chunk (ownership passes to the reader) and returns every frame now
   * complete. Throws the decoder's CodecError; the connection should then be closed.
   */
  push(chunk: Uint8Array): F[] {
    if (this.#ended) throw new Error("FrameReader: push() after end()");
    this.queue.push(chunk);
    return decodeAll(this.decoder, this.queue);
  }

  /** The peer half-closed: returns the remaining frames; throws UnexpectedEof on a partial one. */
  end(): F[] {
    if (this.#ended) return [];
    this.#ended = true;
    return decodeEofAll(this.decoder, this.queue);
  }
}
