// Length-prefixed framing: a header holding the payload length, then the payload.
//  - lengthPrefixed: a binary unsigned big-endian field of 1, 2, 4 or 8 bytes.
//  - asciiLengthPrefixed: N ASCII decimal digits, zero-padded ("00005hello").
// The length is checked against maxFrame as soon as the header is complete, before a
// single body byte is waited for or any buffer is allocated; so a hostile header costs
// nothing but its own bytes.

import type { ByteQueue } from "./byte-queue.ts";
import { strictDecodeEof } from "./codec.ts";
import type { Codec } from "./codec.ts";
import { COALESCE_LIMIT, emitWithHeader } from "./emit.ts";
import { FrameTooLarge, MalformedFrame } from "./errors.ts";
import { checkCount, DEFAULT_MAX_FRAME } from "./limits.ts";

export type LengthWidth = 1 | 2 | 4 | 8;

export interface LengthPrefixedOptions {
  /** Bytes in the length field (big-endian). */
  width: LengthWidth;
  /** Maximum payload bytes (header excluded). Default 1 MiB. */
  maxFrame?: number;
  /** The length field counts its own bytes too (payload = field - width). */
  lengthIncludesHeader?: boolean;
  /** Added to the field to get the payload length (Netty's lengthAdjustment). Default 0. */
  adjust?: number;
}

const MAX_FIELD: Record<LengthWidth, number> = { 1: 0xff, 2: 0xffff, 4: 0xffff_ffff, 8: Number.MAX_SAFE_INTEGER };

export class LengthPrefixedCodec implements Codec<Uint8Array> {
  readonly width: LengthWidth;
  readonly maxFrame: number;
  readonly lengthIncludesHeader: boolean;
  readonly adjust: number;
  // payload = field + #delta
  #delta: number;

  constructor(options: LengthPrefixedOptions) {
    const { width } = options;
    if (width !== 1 && width !== 2 && width !== 4 && width !== 8) {
      throw new RangeError(`width must be 1, 2, 4 or 8, got ${String(width)}`);
    }
    this.width = width;
    this.maxFrame = checkCount("maxFrame", options.maxFrame ?? DEFAULT_MAX_FRAME);
    this.lengthIncludesHeader = options.lengthIncludesHeader ?? false;
    this.adjust = options.adjust ?? 0;
    if (!Number.isSafeInteger(this.adjust)) {
      throw new RangeError(`adjust must be an integer, got ${String(this.adjust)}`);
    }
    this.#delta = this.adjust - (this.lengthIncludesHeader ? width : 0);
  }

  decode(input: ByteQueue): Uint8Array | undefined {
    const w = this.width;
    if (input.length < w) return undefined;
    // Unsafe 8-byte values come back as doubles > 2^53 - 1: still caught by the limit check.
    const field = input.readUint(0, w);
    const size = field + this.#delta;
    if (size > this.maxFrame) throw new FrameTooLarge(size, this.maxFrame);
    if (size < 0) {
      throw new MalformedFrame(
        this.lengthIncludesHeader
          ? `length field ${field} is smaller than the ${w}-byte header it includes${
            this.adjust ? ` (adjust ${this.adjust})` : ""
          }`
          : `length field ${field} with adjust ${this.adjust} gives a negative payload length`,
      );
    }
    if (input.length < w + size) return undefined;
    input.skip(w);
    return input.take(size);
  }

  decodeEof(input: ByteQueue): Uint8Array | undefined {
    return strictDecodeEof(this, input);
  }

  encode(frame: Uint8Array, out: (bytes: Uint8Array) => void): void {
    const size = frame.length;
    if (size > this.maxFrame) throw new FrameTooLarge(size, this.maxFrame);
    const field = size - this.#delta;
    if (field > MAX_FIELD[this.width]) {
      throw new FrameTooLarge(size, MAX_FIELD[this.width] + this.#delta, {
        what: `frame for a ${this.width}-byte length field`,
      });
    }
    if (field < 0) throw new MalformedFrame(`a ${size}-byte frame cannot be expressed with adjust ${this.adjust}`);
    const w = this.width;
    // A small frame is written into one array with its header (one allocation, one write).
    const small = size <= COALESCE_LIMIT;
    const header = new Uint8Array(small ? w + size : w);
    // Big-endian, byte by byte; division rather than shifts, since fields go up to 2^53 - 1.
    let v = field;
    for (let i = w - 1; i >= 0; i--) {
      header[i] = v % 256;
      v = Math.floor(v / 256);
    }
    if (small) {
      header.set(frame, w);
      out(header);
    } else {
      emitWithHeader(out, header, frame);
    }
  }
}

/** Binary big-endian length prefix of 1, 2, 4 or 8 bytes. One instance per connection. */
export function lengthPrefixed(options: LengthPrefixedOptions): LengthPrefixedCodec {
  return new LengthPrefixedCodec(options);
}

export interface AsciiLengthPrefixedOptions {
  /** Number of ASCII decimal digits in the header, 1..20. */
  digits: number;
  /** Maximum payload bytes (header excluded). Default 1 MiB. */
  maxFrame?: number;
}

const ZERO = 0x30;
const NINE = 0x39;

export class AsciiLengthPrefixedCodec implements Codec<Uint8Array> {
  readonly digits: number;
  readonly maxFrame: number;
  // Header parsing state, so a trickled header or body is not re-parsed on every call.
  #checked = 0; // header digits already validated
  #size = -1; // payload length of the current frame once its header is complete

  constructor(options: AsciiLengthPrefixedOptions) {
    const { digits } = options;
    if (!Number.isInteger(digits) || digits < 1 || digits > 20) {
      throw new RangeError(`digits must be an integer from 1 to 20, got ${String(digits)}`);
    }
    this.digits = digits;
    this.maxFrame = checkCount("maxFrame", options.maxFrame ?? DEFAULT_MAX_FRAME);
  }

  decode(input: ByteQueue): Uint8Array | undefined {
    const n = this.digits;
    if (this.#size < 0) {
      // Reject a non-digit as soon as it arrives, not only once the header is complete.
      const have = Math.min(input.length, n);
      for (let i = this.#checked; i < have; i++) {
        const b = input.byteAt(i);
        if (b < ZERO || b > NINE) {
          throw new MalformedFrame(
            `length header byte ${i} is 0x${b.toString(16).padStart(2, "0")}, not an ASCII digit`,
          );
        }
      }
      this.#checked = have;
      if (have < n) return undefined;
      let size = 0;
      for (let i = 0; i < n; i++) size = size * 10 + (input.byteAt(i) - ZERO);
      if (size > this.maxFrame) throw new FrameTooLarge(size, this.maxFrame);
      this.#size = size;
    }
    if (input.length < n + this.#size) return undefined;
    const size = this.#size;
    this.#size = -1;
    this.#checked = 0;
    input.skip(n);
    return input.take(size);
  }

  decodeEof(input: ByteQueue): Uint8Array | undefined {
    return strictDecodeEof(this, input);
  }

  encode(frame: Uint8Array, out: (bytes: Uint8Array) => void): void {
    const size = frame.length;
    if (size > this.maxFrame) throw new FrameTooLarge(size, this.maxFrame);
    const text = String(size);
    if (text.length > this.digits) {
      throw new FrameTooLarge(size, 10 ** this.digits - 1, { what: `frame for a ${this.digits}-digit length header` });
    }
    const header = new Uint8Array(this.digits).fill(ZERO);
    for (let i = 0; i < text.length; i++) header[this.digits - text.length + i] = text.charCodeAt(i);
    emitWithHeader(out, header, frame);
  }
}

/** ASCII decimal length prefix of exactly `digits` zero-padded digits. One instance per connection. */
export function asciiLengthPrefixed(options: AsciiLengthPrefixedOptions): AsciiLengthPrefixedCodec {
  return new AsciiLengthPrefixedCodec(options);
}
