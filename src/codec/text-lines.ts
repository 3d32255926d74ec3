// Lines of UTF-8 text: the delimited codec ("\n") with frames as strings, for the line
// protocols most hand-written services start with. Invalid UTF-8 is a MalformedFrame
// (the peer broke the protocol), never a silently replaced character.

import type { ByteQueue } from "./byte-queue.ts";
import type { Codec } from "./codec.ts";
import { DelimitedCodec } from "./delimited.ts";
import { MalformedFrame } from "./errors.ts";

/** Options of `textLines()`. */
export interface TextLinesOptions {
  /** Longest line in bytes (UTF-8), "\n" excluded. Default 1 MiB. */
  maxLength?: number;
  /** Also accept "\r\n" line ends (the "\r" is dropped), as telnet and nc -C send. Default true. */
  stripCr?: boolean;
}

/** UTF-8 text lines ending in "\n": frames are strings without the line end. */
export class TextLinesCodec implements Codec<string> {
  readonly #bytes: DelimitedCodec;
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });
  readonly #encoder = new TextEncoder();

  /** Throws a RangeError for a bad `maxLength`. */
  constructor(options: TextLinesOptions = {}) {
    this.#bytes = new DelimitedCodec({ maxLength: options.maxLength, stripCr: options.stripCr ?? true });
  }

  /** The longest line accepted, in bytes. */
  get maxLength(): number {
    return this.#bytes.maxLength;
  }

  decode(input: ByteQueue): string | undefined {
    const line = this.#bytes.decode(input);
    return line === undefined ? undefined : this.#text(line);
  }

  /** At EOF a last line without "\n" still counts. */
  decodeEof(input: ByteQueue): string | undefined {
    const line = this.#bytes.decodeEof(input);
    return line === undefined ? undefined : this.#text(line);
  }

  /** Writes `line` and a "\n"; a line holding "\n" (or over maxLength) throws a CodecError. */
  encode(line: string, out: (bytes: Uint8Array) => void): void {
    this.#bytes.encode(this.#encoder.encode(line), out);
  }

  #text(line: Uint8Array): string {
    try {
      return this.#decoder.decode(line);
    } catch {
      throw new MalformedFrame("line is not valid UTF-8");
    }
  }
}

/** A codec of UTF-8 text lines ending in "\n" (one instance per connection). */
export function textLines(options: TextLinesOptions = {}): TextLinesCodec {
  return new TextLinesCodec(options);
}
