import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { ByteQueue } from "../../../src/codec/byte-queue.ts";
import { decodeEofAll } from "../../../src/codec/codec.ts";
import { FrameTooLarge } from "../../../src/codec/errors.ts";
import { FrameReader } from "../../../src/codec/frame-reader.ts";
import { readToEof } from "../../../src/codec/read-to-eof.ts";
import {
  ascii,
  assertGarbageSafe,
  concat,
  encodeAll,
  errorAtHeader,
  feed,
  RUNS,
  sameBytes,
  split,
  splitArb,
  text,
} from "./helpers.ts";

describe("readToEof", () => {
  test("decode never yields; EOF yields everything as one frame, once", () => {
    const r = new FrameReader(readToEof());
    expect(r.push(ascii("GET "))).toEqual([]);
    expect(r.push(ascii("/index"))).toEqual([]);
    expect(r.end().map(text)).toEqual(["GET /index"]);
    expect(r.end()).toEqual([]);
  });

  test("an empty stream is one empty frame (a real, empty request)", () => {
    const got = new FrameReader(readToEof()).end();
    expect(got.length).toBe(1);
    expect(got[0]!.length).toBe(0);
    const c = readToEof();
    const q = new ByteQueue();
    expect(c.decodeEof(q)!.length).toBe(0);
    expect(c.decodeEof(q)).toBeUndefined();
  });

  test("a message in one chunk comes back zero-copy", () => {
    const chunk = ascii("all of it");
    const r = new FrameReader(readToEof());
    r.push(chunk);
    expect(r.end()[0]).toBe(chunk);
  });

  test("more than maxLength buffered is FrameTooLarge at once", () => {
    const { error, at, queued } = errorAtHeader(readToEof({ maxLength: 4 }), ascii("123456"));
    expect(error).toBeInstanceOf(FrameTooLarge);
    expect([at, queued]).toEqual([5, 5]);
    expect(new FrameReader(readToEof({ maxLength: 4 })).push(ascii("1234"))).toEqual([]);
  });

  test("encoder writes the bytes as they are; rejects over the limit", () => {
    expect(text(encodeAll(readToEof(), [ascii("abc")]))).toBe("abc");
    expect(() => encodeAll(readToEof({ maxLength: 2 }), [ascii("abc")])).toThrow(FrameTooLarge);
  });

  test("property: any message under the limit, split anywhere, comes back whole at EOF", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), splitArb, (msg, s) => {
        const wire = encodeAll(readToEof({ maxLength: 300 }), [msg]);
        const { frames, atEof } = feed(readToEof({ maxLength: 300 }), split(wire, s));
        expect(frames).toEqual([]);
        expect(atEof.length).toBe(1);
        expect(sameBytes(atEof[0]!, msg)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  test("property: garbage yields only CodecErrors; never more than maxLength buffered", () => {
    assertGarbageSafe(
      fc.integer({ min: 0, max: 300 }),
      (maxLength) => readToEof({ maxLength }),
      (maxLength) => maxLength,
    );
  });

  test("decodeEofAll copies a multi-chunk message once", () => {
    const q = new ByteQueue();
    q.push(ascii("ab"));
    q.push(ascii("cd"));
    expect(text(concat(decodeEofAll(readToEof(), q)))).toBe("abcd");
  });
});
