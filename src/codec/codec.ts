// The codec contract (tokio-util Decoder/Encoder style) and the loops that drive it.
//
// A decoder instance belongs to one connection: some keep state between calls (a scan
// position, an "overflowing" flag), so create one per connection. Between calls the
// decoder owns the queue: nothing else may consume from it.

import type { ByteQueue } from "./byte-queue.ts";
import { UnexpectedEof } from "./errors.ts";

export interface Decoder<F> {
  /**
   * Removes one complete frame from the front of `input` and returns it, or returns
   * undefined (consuming nothing it will need later) when more bytes are needed.
   * Throws a CodecError when the bytes can never form a valid frame.
   */
  decode(input: ByteQueue): F | undefined;
  /**
   * Called after the peer half-closed (no more bytes will come), repeatedly until it
   * returns undefined. Returns the remaining complete frames, then undefined once the
   * queue is empty; throws UnexpectedEof when a partial frame is left.
   * Without decodeEof, leftover bytes at EOF are an UnexpectedEof.
   */
  decodeEof?(input: ByteQueue): F | undefined;
}

export interface Encoder<F> {
  /**
   * Writes the wire form of `frame` through `out`, in one or more pieces. Pieces may be
   * the caller's own bytes (zero-copy); the receiver must not modify them.
   * Throws a CodecError for a frame the framing cannot carry.
   */
  encode(frame: F, out: (bytes: Uint8Array) => void): void;
}

export interface Codec<F> extends Decoder<F>, Encoder<F> {}

/** Yields every complete frame currently in `queue`, in order. */
export function* decodeFrames<F>(decoder: Decoder<F>, queue: ByteQueue): Generator<F, void, undefined> {
  for (;;) {
    const before = queue.length;
    const frame = decoder.decode(queue);
    if (frame === undefined) return;
    // A frame that consumed nothing would repeat forever: a decoder bug, not a peer error.
    if (queue.length === before) throw new Error("decoder returned a frame without consuming input");
    yield frame;
  }
}

/** Decodes every complete frame currently in `queue`. */
export function decodeAll<F>(decoder: Decoder<F>, queue: ByteQueue): F[] {
  const frames: F[] = [];
  for (const f of decodeFrames(decoder, queue)) frames.push(f);
  return frames;
}

/**
 * Drains `queue` after the peer half-closed: all remaining frames, including a final
 * one the framing allows at EOF. Throws UnexpectedEof for a partial frame.
 */
export function decodeEofAll<F>(decoder: Decoder<F>, queue: ByteQueue): F[] {
  if (!decoder.decodeEof) {
    const frames = decodeAll(decoder, queue);
    if (queue.length > 0) throw new UnexpectedEof(queue.length);
    return frames;
  }
  const frames: F[] = [];
  for (;;) {
    const before = queue.length;
    const frame = decoder.decodeEof(queue);
    if (frame === undefined) return frames;
    frames.push(frame);
    // A frame from an empty queue (read-to-EOF's empty message) is necessarily the last.
    if (before === 0) return frames;
    if (queue.length === before) throw new Error("decoder returned a frame without consuming input");
  }
}

/**
 * decodeEof for codecs whose frames carry their own end (fixed, length-prefixed, type
 * byte): at EOF one more whole frame may be buffered; anything else is a partial frame.
 */
export function strictDecodeEof<F>(decoder: Decoder<F>, input: ByteQueue): F | undefined {
  const frame = decoder.decode(input);
  if (frame !== undefined || input.length === 0) return frame;
  throw new UnexpectedEof(input.length);
}
