import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { MalformedFrame, UnexpectedEof } from "../../../src/codec/errors.ts";
import { FrameReader } from "../../../src/codec/frame-reader.ts";
import { typeByte } from "../../../src/codec/type-byte.ts";
import type { TypedFrame } from "../../../src/codec/type-byte.ts";
import {
  assertGarbageSafe,
  assertRoundTrip,
  biasedBytes,
  bytes,
  encodeAll,
  errorAtHeader,
  hex,
  sameBytes,
} from "./helpers.ts";

const table = { 1: 4, 2: 0, 0x7f: 2 };

describe("typeByte", () => {
  test("the type byte picks the payload length from the table", () => {
    const c = typeByte({ lengths: table });
    expect(hex(encodeAll(c, [{ type: 1, payload: bytes(0, 0, 0, 42) }, { type: 2, payload: bytes() }]))).toBe(
      "01 00 00 00 2a 02",
    );
    const r = new FrameReader(c);
    expect(r.push(bytes(1, 0, 0))).toEqual([]);
    const got = r.push(bytes(0, 42, 2, 0x7f, 9, 9));
    expect(got.map((f) => [f.type, Array.from(f.payload)])).toEqual([[1, [0, 0, 0, 42]], [2, []], [0x7f, [9, 9]]]);
  });

  test("accepts a Map as the table", () => {
    const c = typeByte({ lengths: new Map([[5, 1]]) });
    expect(new FrameReader(c).push(bytes(5, 0xee)).map((f) => f.type)).toEqual([5]);
  });

  test("an unknown type is MalformedFrame after its one byte", () => {
    const { error, at, queued } = errorAtHeader(typeByte({ lengths: table }), bytes(3, 0, 0));
    expect(error).toBeInstanceOf(MalformedFrame);
    expect((error as Error).message).toBe("unknown message type 0x03");
    expect([at, queued]).toEqual([1, 1]);
  });

  test("payload inside one chunk is zero-copy", () => {
    const chunk = bytes(1, 1, 2, 3, 4);
    const [f] = new FrameReader(typeByte({ lengths: table })).push(chunk);
    expect(f!.payload.buffer).toBe(chunk.buffer);
  });

  test("a partial frame at EOF is UnexpectedEof", () => {
    const r = new FrameReader(typeByte({ lengths: table }));
    r.push(bytes(1, 0));
    expect(() => r.end()).toThrow(UnexpectedEof);
  });

  test("encoder rejects unknown types and wrong payload sizes", () => {
    const c = typeByte({ lengths: table });
    expect(() => encodeAll(c, [{ type: 9, payload: bytes() }])).toThrow(MalformedFrame);
    expect(() => encodeAll(c, [{ type: 1, payload: bytes(1) }])).toThrow(MalformedFrame);
    expect(() => encodeAll(c, [{ type: 256, payload: bytes() }])).toThrow(MalformedFrame);
  });

  test("table is validated", () => {
    expect(() => typeByte({ lengths: {} })).toThrow(RangeError);
    expect(() => typeByte({ lengths: new Map([[256, 1]]) })).toThrow(RangeError);
    expect(() => typeByte({ lengths: { 1: -1 } })).toThrow(RangeError);
  });

  // Random tables of up to 6 types with payloads up to 20 bytes.
  const tables = fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 20 })), {
    minLength: 1,
    maxLength: 6,
    selector: ([t]) => t,
  }).map((entries) => new Map(entries));

  test("property: frames round-trip under any split", () => {
    assertRoundTrip(
      tables,
      (lengths) => typeByte({ lengths }),
      (lengths) => {
        const frame = fc.constantFrom(...lengths.keys()).chain((type) =>
          fc.uint8Array({ minLength: lengths.get(type)!, maxLength: lengths.get(type)! }).map((
            payload,
          ): TypedFrame => ({ type, payload }))
        );
        return fc.array(frame, { maxLength: 12 });
      },
      (a, b) => a.type === b.type && sameBytes(a.payload, b.payload),
    );
  });

  test("property: garbage yields only CodecErrors; never more than the largest frame buffered", () => {
    assertGarbageSafe(
      tables,
      (lengths) => typeByte({ lengths }),
      (lengths) => Math.max(...lengths.values()),
      (lengths) => biasedBytes([...lengths.keys()]),
    );
  });
});
