// Type-byte framing: the first byte names the message type, and a fixed table gives
// each type's payload length. Frames are { type, payload }. An unknown type is
// rejected as soon as its byte arrives; the table bounds every frame, so no other limit.

import type { ByteQueue } from "./byte-queue.ts";
import { strictDecodeEof } from "./codec.ts";
import type { Codec } from "./codec.ts";
import { emitWithHeader } from "./emit.ts";
import { MalformedFrame } from "./errors.ts";
import { checkCount } from "./limits.ts";

export interface TypedFrame {
  type: number;
  payload: Uint8Array;
}

export interface TypeByteOptions {
  /** Payload length for each type byte (0..255). Types not listed are malformed. */
  lengths: Record<number, number> | ReadonlyMap<number, number>;
}

export class TypeByteCodec implements Codec<TypedFrame> {
  // -1 = unknown type; a flat table makes the per-frame lookup one array read.
  #lengths = new Float64Array(256).fill(-1);
  readonly maxPayload: number;

  constructor(options: TypeByteOptions) {
    const entries: [number, number][] = options.lengths instanceof Map
      ? [...options.lengths]
      : Object.entries(options.lengths).map(([k, v]) => [Number(k), v]);
    if (entries.length === 0) throw new RangeError("typeByte needs at least one type");
    let max = 0;
    for (const [type, length] of entries) {
      if (!Number.isInteger(type) || type < 0 || type > 255) {
        throw new RangeError(`type must be a byte 0..255, got ${String(type)}`);
      }
      this.#lengths[type] = checkCount(`payload length of type ${type}`, length);
      max = Math.max(max, length);
    }
    this.maxPayload = max;
  }

  /** Payload length for `type`, or undefined if the type is unknown. */
  lengthOf(type: number): number | undefined {
    const n = Number.isInteger(type) && type >= 0 && type <= 255 ? this.#lengths[type]! : -1;
    return n < 0 ? undefined : n;
  }

  decode(input: ByteQueue): TypedFrame | undefined {
    if (input.length === 0) return undefined;
    const type = input.byteAt(0);
    const size = this.#lengths[type]!;
    if (size < 0) throw new MalformedFrame(`unknown message type 0x${type.toString(16).padStart(2, "0")}`);
    if (input.length < 1 + size) return undefined;
    input.skip(1);
    return { type, payload: input.take(size) };
  }

  decodeEof(input: ByteQueue): TypedFrame | undefined {
    return strictDecodeEof(this, input);
  }

  encode(frame: TypedFrame, out: (bytes: Uint8Array) => void): void {
    const size = this.lengthOf(frame.type);
    if (size === undefined) throw new MalformedFrame(`unknown message type ${String(frame.type)}`);
    if (frame.payload.length !== size) {
      throw new MalformedFrame(`type ${frame.type} payload must be ${size} bytes, got ${frame.payload.length}`);
    }
    emitWithHeader(out, Uint8Array.of(frame.type), frame.payload);
  }
}

/** Type byte, then a payload whose length the table fixes per type. One instance per connection. */
export function typeByte(options: TypeByteOptions): TypeByteCodec {
  return new TypeByteCodec(options);
}
