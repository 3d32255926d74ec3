import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { ByteQueue } from "../../../src/codec/byte-queue.ts";
import { decodeAll } from "../../../src/codec/codec.ts";
import { delimited } from "../../../src/codec/delimited.ts";
import type { DelimitedOptions } from "../../../src/codec/delimited.ts";
import { FrameTooLarge, MalformedFrame } from "../../../src/codec/errors.ts";
import { FrameReader } from "../../../src/codec/frame-reader.ts";
import {
  ascii,
  assertGarbageSafe,
  assertRoundTrip,
  biasedBytes,
  bytes,
  encodeAll,
  errorAtHeader,
  feed,
  RUNS,
  sameBytes,
  split,
  text,
} from "./helpers.ts";

const lines = (opts: DelimitedOptions, ...chunks: string[]) => {
  const r = new FrameReader(delimited(opts));
  const out = chunks.flatMap((c) => r.push(ascii(c)).map(text));
  return [...out, ...r.end().map(text)];
};

describe("delimited: decoding", () => {
  test("newline by default; frames exclude it; empty lines are empty frames", () => {
    expect(lines({}, "a\nbc\n\nd", "ef\n")).toEqual(["a", "bc", "", "def"]);
  });

  test("one byte at a time", () => {
    expect(lines({}, ..."hello\nworld\n".split(""))).toEqual(["hello", "world"]);
  });

  test("multi-byte delimiters split across chunks", () => {
    expect(lines({ delimiter: "\r\n" }, "GET / HTTP/1.0\r", "\nHost: x\r\n", "\r\n")).toEqual([
      "GET / HTTP/1.0",
      "Host: x",
      "",
    ]);
    expect(lines({ delimiter: "\r\n\r\n" }, "head\r\n", "still head\r\n\r", "\nbody")).toEqual([
      "head\r\nstill head",
      "body",
    ]);
    expect(lines({ delimiter: bytes(0) }, "a\0b", "\0")).toEqual(["a", "b"]);
  });

  test("stripCr tolerates CRLF and LF alike; without it the CR stays", () => {
    expect(lines({ stripCr: true }, "a\r\nb\nc\r", "\n")).toEqual(["a", "b", "c"]);
    expect(lines({}, "a\r\n")).toEqual(["a\r"]);
    expect(() => delimited({ delimiter: "\r\n", stripCr: true })).toThrow(RangeError);
  });

  test("EOF: a trailing unterminated line is the final frame", () => {
    expect(lines({}, "a\nlast")).toEqual(["a", "last"]);
    expect(lines({ stripCr: true }, "a\r\nlast\r")).toEqual(["a", "last"]);
    expect(lines({}, "a\n")).toEqual(["a"]);
    expect(lines({})).toEqual([]);
  });

  test("frames inside one chunk are zero-copy subarrays", () => {
    const chunk = ascii("one\ntwo\n");
    const r = new FrameReader(delimited());
    const frames = r.push(chunk);
    expect(frames.map((f) => f.buffer)).toEqual([chunk.buffer, chunk.buffer]);
    expect(frames[1]!.byteOffset).toBe(4);
  });

  test("empty delimiter and bad options are rejected", () => {
    expect(() => delimited({ delimiter: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => delimited({ maxLength: -1 })).toThrow(RangeError);
    expect(() => delimited({ onOverflow: "drop" as "error" })).toThrow(RangeError);
  });

  test("the delimiter option is copied, so the caller may reuse its array", () => {
    const d = bytes(0x2c);
    const c = delimited({ delimiter: d });
    d[0] = 0x3b;
    expect(lines({ delimiter: c.delimiter }, "a,b,")).toEqual(["a", "b"]);
  });

  test("a long line trickled in byte by byte is scanned in linear time", () => {
    // Count the native searches instead of timing them: rescanning the whole buffered
    // line on every byte would search each chunk again, n²/2 searches in all.
    let searches = 0;
    class CountingChunk extends Uint8Array {
      override indexOf(value: number, from?: number): number {
        searches++;
        return super.indexOf(value, from);
      }
    }
    const q = new ByteQueue();
    const c = delimited({ maxLength: 1 << 20 });
    const n = 5_000;
    for (let i = 0; i < n; i++) {
      q.push(new CountingChunk([0x78]));
      if (c.decode(q) !== undefined) throw new Error("no frame expected");
    }
    q.push(ascii("\n"));
    expect(c.decode(q)!.length).toBe(n);
    expect(searches).toBeGreaterThan(0); // the count is real: ByteQueue searched these chunks
    expect(searches).toBeLessThan(4 * n); // quadratic would be ~12,500,000
  });
});

describe("delimited: limits", () => {
  test("error mode throws as soon as more than maxLength bytes have no delimiter", () => {
    const { error, at, queued } = errorAtHeader(delimited({ maxLength: 5 }), ascii("1234567890"));
    expect(error).toBeInstanceOf(FrameTooLarge);
    expect(at).toBe(6);
    expect(queued).toBe(6);
    expect((error as FrameTooLarge).atLeast).toBe(true);
    expect((error as Error).message).toBe("frame of at least 6 bytes exceeds the 5-byte limit");
  });

  test("a frame of exactly maxLength is fine, also with a multi-byte delimiter", () => {
    expect(lines({ maxLength: 5 }, "12345\n")).toEqual(["12345"]);
    expect(lines({ maxLength: 5, delimiter: "\r\n" }, ..."12345\r\n".split(""))).toEqual(["12345"]);
    expect(lines({ maxLength: 5, stripCr: true }, ..."12345\r\n".split(""))).toEqual(["12345"]);
  });

  test("with a 2-byte delimiter, the error comes at maxLength + 2 bytes, not before", () => {
    const { error, at } = errorAtHeader(delimited({ maxLength: 5, delimiter: "\r\n" }), ascii("123456789"));
    expect(error).toBeInstanceOf(FrameTooLarge);
    expect(at).toBe(7);
  });

  test("an overlong frame whose delimiter is already buffered reports its exact size", () => {
    const r = new FrameReader(delimited({ maxLength: 5 }));
    try {
      r.push(ascii("1234567\nok\n"));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FrameTooLarge);
      expect([(e as FrameTooLarge).size, (e as FrameTooLarge).atLeast]).toEqual([7, false]);
    }
  });

  test("an overlong unterminated tail at EOF is FrameTooLarge", () => {
    const r = new FrameReader(delimited({ maxLength: 5, delimiter: "\r\n" }));
    expect(r.push(ascii("123456"))).toEqual([]);
    expect(() => r.end()).toThrow(FrameTooLarge);
  });

  test("discard mode drops overlong frames, counts them, and carries on", () => {
    for (
      const chunks of [["waytoolong\nok\nalsowaytoolong\nfine\n"], "waytoolong\nok\nalsowaytoolong\nfine\n".split("")]
    ) {
      const c = delimited({ maxLength: 4, onOverflow: "discard" });
      const r = new FrameReader(c);
      const got = chunks.flatMap((ch) => {
        const f = r.push(ascii(ch));
        expect(r.buffered).toBeLessThanOrEqual(4);
        return f.map(text);
      });
      expect(got).toEqual(["ok", "fine"]);
      expect(c.discarded).toBe(2);
    }
  });

  test("discard mode with a multi-byte delimiter split at the cut", () => {
    const c = delimited({ maxLength: 3, delimiter: "<>", onOverflow: "discard" });
    const r = new FrameReader(c);
    expect(r.push(ascii("abcdefg<"))).toEqual([]);
    expect(r.buffered).toBeLessThanOrEqual(4);
    expect(r.push(ascii(">xy<>")).map(text)).toEqual(["xy"]);
    expect(c.discarded).toBe(1);
  });

  test("discard mode at EOF drops the tail of an overlong frame without a second count", () => {
    const c = delimited({ maxLength: 3, onOverflow: "discard" });
    const r = new FrameReader(c);
    r.push(ascii("ok\nabcdefgh"));
    expect(r.end()).toEqual([]);
    expect(c.discarded).toBe(1);
  });
});

describe("delimited: encoding", () => {
  test("appends the delimiter", () => {
    expect(text(encodeAll(delimited(), [ascii("hi"), ascii("")]))).toBe("hi\n\n");
    expect(text(encodeAll(delimited({ delimiter: "\r\n" }), [ascii("hi")]))).toBe("hi\r\n");
  });

  test("large frames go out zero-copy next to the delimiter", () => {
    const big = new Uint8Array(5000).fill(0x61);
    const parts: Uint8Array[] = [];
    delimited().encode(big, (b) => parts.push(b));
    expect(parts[0]).toBe(big);
    expect(Array.from(parts[1]!)).toEqual([0x0a]);
  });

  test("rejects a frame containing the delimiter, or forming it with the appended one", () => {
    expect(() => encodeAll(delimited(), [ascii("a\nb")])).toThrow(MalformedFrame);
    expect(() => encodeAll(delimited({ delimiter: "aa" }), [ascii("xa")])).toThrow(MalformedFrame);
    expect(() => encodeAll(delimited({ delimiter: "abab" }), [ascii("xab")])).toThrow(MalformedFrame);
    // "x\r" + "\r\n" decodes back to "x\r": allowed.
    expect(text(encodeAll(delimited({ delimiter: "\r\n" }), [ascii("x\r")]))).toBe("x\r\r\n");
  });

  test("with stripCr, rejects a frame ending in \\r (the decoder would drop it)", () => {
    expect(() => encodeAll(delimited({ stripCr: true }), [ascii("x\r")])).toThrow(MalformedFrame);
  });

  test("rejects a frame over maxLength", () => {
    expect(() => encodeAll(delimited({ maxLength: 2 }), [ascii("abc")])).toThrow(FrameTooLarge);
  });
});

describe("delimited: properties", () => {
  // A tiny alphabet makes frames collide with (parts of) the delimiter often.
  const alphabet = fc.constantFrom(0x61, 0x62, 0x0d, 0x0a, 0x00);
  const delimiterArb = fc.oneof(
    fc.constantFrom("\n", "\r\n", "aa", "ab", "aba", "\r\n\r\n").map((s) => ascii(s)),
    fc.array(alphabet, { minLength: 1, maxLength: 3 }).map((a) => Uint8Array.from(a)),
  );
  const params = fc.record({
    delimiter: delimiterArb,
    maxLength: fc.integer({ min: 0, max: 24 }),
    onOverflow: fc.constantFrom("error" as const, "discard" as const),
    stripCr: fc.boolean(),
  }).map((p) => ({ ...p, stripCr: p.stripCr && p.delimiter.length === 1 && p.delimiter[0] === 0x0a }));

  test("property: any carriable frames round-trip under any split", () => {
    assertRoundTrip(
      params,
      delimited,
      (p) => {
        const c = delimited(p);
        const frame = fc.array(alphabet, { maxLength: p.maxLength }).map((a) => Uint8Array.from(a))
          .filter((f) => c.canCarry(f) && !(p.stripCr && f[f.length - 1] === 0x0d));
        return fc.array(frame, { maxLength: 10 });
      },
      sameBytes,
    );
  });

  test("property: garbage yields only CodecErrors; never more than maxLength + delimiter (+1 with stripCr) buffered", () => {
    assertGarbageSafe(
      params,
      delimited,
      (p) => p.maxLength + p.delimiter.length - 1 + (p.stripCr ? 1 : 0),
      (p) => biasedBytes([...p.delimiter, 0x0d, 0x61]),
    );
  });

  test("property: discard mode decodes exactly the in-limit frames of any line mix", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constantFrom(0x61, 0x62), { maxLength: 12 }).map((a) => Uint8Array.from(a)), {
          maxLength: 12,
        }),
        fc.integer({ min: 0, max: 8 }),
        fc.nat({ max: 39 }),
        (frames, maxLength, size) => {
          const c = delimited({ maxLength, onOverflow: "discard" });
          const wire = ascii(frames.map((f) => text(f) + "\n").join(""));
          const { frames: got } = feed(c, split(wire, { kind: "sizes", sizes: [size + 1], copy: false }));
          const want = frames.filter((f) => f.length <= maxLength);
          expect(got.map(text)).toEqual(want.map(text));
          expect(c.discarded).toBe(frames.length - want.length);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("property: error mode never buffers a delimiter-free run longer than the limit", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1, max: 200 }), (maxLength, chunk) => {
        const c = delimited({ maxLength });
        const q = new ByteQueue();
        let threw = false;
        for (let sent = 0; sent < maxLength + 300 && !threw; sent += chunk) {
          q.push(new Uint8Array(chunk).fill(0x61));
          try {
            decodeAll(c, q);
            expect(q.length).toBeLessThanOrEqual(maxLength);
          } catch (e) {
            expect(e).toBeInstanceOf(FrameTooLarge);
            threw = true;
          }
        }
        expect(threw).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
