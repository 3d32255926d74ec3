import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { FrameReader } from "../../../src/codec/frame-reader.ts";
import { fixedLength } from "../../../src/codec/fixed.ts";
import { MalformedFrame, UnexpectedEof } from "../../../src/codec/errors.ts";
import { ascii, assertGarbageSafe, assertRoundTrip, bytes, encodeAll, sameBytes, text } from "./helpers.ts";

describe("fixedLength", () => {
  test("splits back-to-back frames and keeps the leftover", () => {
    const r = new FrameReader(fixedLength(3));
    expect(r.push(ascii("abcde")).map(text)).toEqual(["abc"]);
    expect(r.buffered).toBe(2);
    expect(r.push(ascii("fghi")).map(text)).toEqual(["def", "ghi"]);
    expect(r.end()).toEqual([]);
  });

  test("a frame inside one chunk is zero-copy; one spanning chunks is copied", () => {
    const chunk = ascii("abcdef");
    const r = new FrameReader(fixedLength(4));
    const [f] = r.push(chunk);
    expect(f!.buffer).toBe(chunk.buffer);
    const [g] = r.push(ascii("ghXY"));
    expect(text(g!)).toBe("efgh");
    expect(g!.buffer).not.toBe(chunk.buffer);
  });

  test("a partial frame at EOF is UnexpectedEof naming the bytes left", () => {
    const r = new FrameReader(fixedLength(4));
    r.push(ascii("abcdef"));
    expect(() => r.end()).toThrow(UnexpectedEof);
    const r2 = new FrameReader(fixedLength(4));
    r2.push(ascii("ab"));
    try {
      r2.end();
      expect.unreachable();
    } catch (e) {
      expect((e as UnexpectedEof).bytesLeft).toBe(2);
    }
  });

  test("encoder passes the frame through, rejects a wrong size", () => {
    const c = fixedLength(2);
    expect(Array.from(encodeAll(c, [bytes(1, 2)]))).toEqual([1, 2]);
    expect(() => encodeAll(c, [bytes(1)])).toThrow(MalformedFrame);
  });

  test("size must be a positive integer", () => {
    expect(() => fixedLength(0)).toThrow(RangeError);
    expect(() => fixedLength(1.5)).toThrow(RangeError);
  });

  const sizes = fc.integer({ min: 1, max: 16 });

  test("property: round-trips under any split", () => {
    assertRoundTrip(
      sizes,
      fixedLength,
      (n) => fc.array(fc.uint8Array({ minLength: n, maxLength: n }), { maxLength: 12 }),
      sameBytes,
    );
  });

  test("property: garbage yields only CodecErrors and never more than n - 1 bytes buffered", () => {
    assertGarbageSafe(sizes, fixedLength, (n) => n - 1);
  });
});
