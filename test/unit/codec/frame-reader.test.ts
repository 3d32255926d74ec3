import { describe, expect, test } from "vitest";
import { ByteQueue } from "../../../src/codec/byte-queue.ts";
import { decodeAll, decodeEofAll, decodeFrames } from "../../../src/codec/codec.ts";
import type { Decoder } from "../../../src/codec/codec.ts";
import { delimited } from "../../../src/codec/delimited.ts";
import { UnexpectedEof } from "../../../src/codec/errors.ts";
import { fixedLength } from "../../../src/codec/fixed.ts";
import { FrameReader } from "../../../src/codec/frame-reader.ts";
import { ascii, text } from "./helpers.ts";

describe("decode loops", () => {
  test("decodeFrames yields lazily; decodeAll collects", () => {
    const q = new ByteQueue();
    q.push(ascii("a\nb\nc"));
    const it = decodeFrames(delimited(), q);
    expect(text(it.next().value as Uint8Array)).toBe("a");
    expect(q.length).toBe(3);
    expect(decodeAll(delimited(), q).map(text)).toEqual(["b"]);
    expect(q.length).toBe(1);
  });

  test("a decoder without decodeEof: leftovers at EOF are UnexpectedEof", () => {
    const bare: Decoder<Uint8Array> = { decode: (q) => (q.length >= 2 ? q.take(2) : undefined) };
    const q = new ByteQueue();
    q.push(ascii("abcd"));
    expect(decodeEofAll(bare, q).map(text)).toEqual(["ab", "cd"]);
    q.push(ascii("e"));
    expect(() => decodeEofAll(bare, q)).toThrow(UnexpectedEof);
  });

  test("a buggy decoder that returns frames without consuming is stopped, not looped", () => {
    const stuck: Decoder<number> = { decode: () => 1 };
    const q = new ByteQueue();
    q.push(ascii("x"));
    expect(() => decodeAll(stuck, q)).toThrow(/without consuming/);
  });
});

describe("FrameReader", () => {
  test("push returns complete frames, end drains the rest", () => {
    const r = new FrameReader(delimited());
    expect(r.push(ascii("one\ntw")).map(text)).toEqual(["one"]);
    expect(r.buffered).toBe(2);
    expect(r.end().map(text)).toEqual(["tw"]);
    expect(r.ended).toBe(true);
    expect(r.end()).toEqual([]);
    expect(() => r.push(ascii("x"))).toThrow(/after end/);
  });

  test("end with a partial frame throws UnexpectedEof", () => {
    const r = new FrameReader(fixedLength(4));
    r.push(ascii("abcdef"));
    expect(() => r.end()).toThrow(UnexpectedEof);
  });
});
