// One request and its reply, per mode: what a bench connection writes and how it checks
// what comes back. An exchange belongs to one connection slot and reuses its buffers: the
// next request is built only after the previous reply arrived, so the adapter no longer
// holds the previous bytes (Conn.write may keep a reference until sent).

import { ByteQueue, type Codec, CodecError } from "../codec/index.ts";
import { appEnvelope, type AppEnvelopeCodec, encodeMessage } from "../app/envelope.ts";
import { decodeJson, isJson, jsonMessage } from "../app/content.ts";
import { AppProtocolError } from "../app/errors.ts";

/** The reply was not the one the request asked for: counted as a `verify` error. */
export class VerifyError extends Error {
  override name = "VerifyError";
}

export interface Exchange {
  /** The wire bytes of the next request. */
  next(): Uint8Array;
  /** Reply bytes arrived; true once the whole reply is in. Throws VerifyError for a wrong reply. */
  feed(chunk: Uint8Array): boolean;
}

const A = 0x61; // "a"

/**
 * The payload: printable letters (safe inside every framing, delimiters included), whose
 * first bytes carry a request counter so a reply to an earlier request cannot pass.
 */
export function fillPattern(buf: Uint8Array): void {
  for (let i = 0; i < buf.length; i++) buf[i] = A + (i % 26);
}

/** Write `seq` in base 26 into the first (up to 8) bytes of `buf` at `offset`. */
export function stamp(buf: Uint8Array, offset: number, length: number, seq: number): void {
  const n = Math.min(8, length);
  let v = seq;
  for (let i = n - 1; i >= 0; i--) {
    buf[offset + i] = A + (v % 26);
    v = Math.floor(v / 26);
  }
}

/** Compare `chunk` with `expected` from `at`; the first difference is a VerifyError. */
function compare(expected: Uint8Array, at: number, chunk: Uint8Array): void {
  if (at + chunk.length > expected.length) {
    throw new VerifyError(`reply longer than the ${expected.length} bytes sent`);
  }
  for (let i = 0; i < chunk.length; i++) {
    if (chunk[i] !== expected[at + i]) {
      throw new VerifyError(`reply byte ${at + i} is 0x${hex(chunk[i]!)}, sent 0x${hex(expected[at + i]!)}`);
    }
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}

/** Raw echo (RFC 862): `size` bytes out, the same bytes back. */
export class EchoExchange implements Exchange {
  readonly #payload: Uint8Array;
  #seq = 0;
  #got = 0;

  constructor(size: number) {
    this.#payload = new Uint8Array(size);
    fillPattern(this.#payload);
  }

  next(): Uint8Array {
    stamp(this.#payload, 0, this.#payload.length, this.#seq++);
    this.#got = 0;
    return this.#payload;
  }

  feed(chunk: Uint8Array): boolean {
    compare(this.#payload, this.#got, chunk);
    this.#got += chunk.length;
    return this.#got === this.#payload.length;
  }
}

/** One frame of `--framing SPEC` out, the same frame back (framed echo). */
export class FramedExchange implements Exchange {
  readonly #codec: Codec<Uint8Array>;
  readonly #payload: Uint8Array;
  /** The encoded request, built once; the payload's bytes inside it are re-stamped per request. */
  readonly #wire: Uint8Array;
  readonly #payloadAt: number;
  readonly #queue: ByteQueue;
  #seq = 0;

  constructor(codec: Codec<Uint8Array>, size: number, copyBelow?: number) {
    this.#queue = new ByteQueue({ copyBelow });
    this.#codec = codec;
    this.#payload = new Uint8Array(size);
    fillPattern(this.#payload);
    const parts: Uint8Array[] = [];
    codec.encode(this.#payload, (b) => parts.push(b.slice()));
    this.#wire = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      this.#wire.set(p, at);
      at += p.length;
    }
    // where the payload sits inside the frame (after a length prefix, before a delimiter)
    const payloadAt = findBytes(this.#wire, this.#payload);
    if (payloadAt < 0) throw new Error("the framing does not carry the payload unchanged");
    this.#payloadAt = payloadAt;
  }

  next(): Uint8Array {
    const seq = this.#seq++;
    stamp(this.#payload, 0, this.#payload.length, seq);
    stamp(this.#wire, this.#payloadAt, this.#payload.length, seq);
    return this.#wire;
  }

  feed(chunk: Uint8Array): boolean {
    this.#queue.push(chunk);
    let frame: Uint8Array | undefined;
    try {
      frame = this.#codec.decode(this.#queue);
    } catch (err) {
      if (err instanceof CodecError) throw new VerifyError(`reply does not decode: ${err.message}`);
      throw err;
    }
    if (frame === undefined) return false;
    if (this.#queue.length > 0) throw new VerifyError("more bytes after the reply frame");
    if (frame.length !== this.#payload.length) {
      throw new VerifyError(`reply frame of ${frame.length} bytes, sent ${this.#payload.length}`);
    }
    compare(this.#payload, 0, frame);
    return true;
  }
}

function findBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let at = 0; at + needle.length <= haystack.length; at++) {
    for (let i = 0; i < needle.length; i++) if (haystack[at + i] !== needle[i]) continue outer;
    return at;
  }
  return -1;
}

const text = new TextDecoder();

/** The app protocol: an `echo` action whose value is `size` letters; the result must be that value. */
export class AppExchange implements Exchange {
  readonly #codec: AppEnvelopeCodec;
  readonly #value: Uint8Array;
  #expected = "";
  readonly #queue: ByteQueue;
  #seq = 0;

  constructor(size: number, maxReply: number, copyBelow?: number) {
    this.#queue = new ByteQueue({ copyBelow });
    this.#codec = appEnvelope({ maxContent: maxReply });
    this.#value = new Uint8Array(size);
    fillPattern(this.#value);
  }

  next(): Uint8Array {
    stamp(this.#value, 0, this.#value.length, this.#seq++);
    this.#expected = text.decode(this.#value);
    return encodeMessage(jsonMessage({ action: "echo", value: this.#expected }));
  }

  feed(chunk: Uint8Array): boolean {
    this.#queue.push(chunk);
    try {
      const msg = this.#codec.decode(this.#queue);
      if (msg === undefined) return false;
      if (this.#queue.length > 0) throw new VerifyError("more bytes after the reply");
      if (!isJson(msg)) throw new VerifyError(`reply is ${msg.header["content-type"]}, not text/json`);
      const reply = decodeJson(msg) as { result?: unknown } | null;
      if (reply?.result !== this.#expected) {
        throw new VerifyError(`reply result is not the value sent: ${JSON.stringify(reply).slice(0, 60)}`);
      }
      return true;
    } catch (err) {
      if (err instanceof CodecError || err instanceof AppProtocolError) {
        throw new VerifyError(`bad reply: ${err.message}`);
      }
      throw err;
    }
  }
}
