import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { FrameTooLarge, MalformedFrame, UnexpectedEof } from "../../../src/codec/errors.ts";
import { FrameReader } from "../../../src/codec/frame-reader.ts";
import { asciiLengthPrefixed, lengthPrefixed } from "../../../src/codec/length-prefixed.ts";
import type { LengthWidth } from "../../../src/codec/length-prefixed.ts";
import {
  ascii,
  assertGarbageSafe,
  assertRoundTrip,
  biasedBytes,
  bytes,
  encodeAll,
  errorAtHeader,
  hex,
  RUNS,
  sameBytes,
  text,
} from "./helpers.ts";

const widths: LengthWidth[] = [1, 2, 4, 8];

describe("lengthPrefixed (binary, big-endian)", () => {
  test("wire format for each width", () => {
    expect(hex(encodeAll(lengthPrefixed({ width: 1 }), [ascii("hi")]))).toBe("02 68 69");
    expect(hex(encodeAll(lengthPrefixed({ width: 2 }), [ascii("hi")]))).toBe("00 02 68 69");
    expect(hex(encodeAll(lengthPrefixed({ width: 4 }), [ascii("hi")]))).toBe("00 00 00 02 68 69");
    expect(hex(encodeAll(lengthPrefixed({ width: 8 }), [ascii("hi")]))).toBe("00 00 00 00 00 00 00 02 68 69");
    expect(hex(encodeAll(lengthPrefixed({ width: 2 }), [new Uint8Array(0)]))).toBe("00 00");
  });

  test("decodes back-to-back frames split anywhere, including inside the header", () => {
    const r = new FrameReader(lengthPrefixed({ width: 2 }));
    expect(r.push(bytes(0x00))).toEqual([]);
    expect(r.push(bytes(0x02, 0x68))).toEqual([]);
    expect(r.push(bytes(0x69, 0x00, 0x00, 0x00, 0x01)).map(text)).toEqual(["hi", ""]);
    expect(r.push(bytes(0x21)).map(text)).toEqual(["!"]);
    expect(r.end()).toEqual([]);
  });

  test("a body inside one chunk is zero-copy even when the header came separately", () => {
    const r = new FrameReader(lengthPrefixed({ width: 4 }));
    r.push(bytes(0, 0, 0, 3));
    const body = ascii("abc");
    const [f] = r.push(body);
    expect(f).toBe(body);
  });

  test("lengthIncludesHeader and adjust", () => {
    const inc = lengthPrefixed({ width: 2, lengthIncludesHeader: true });
    expect(hex(encodeAll(inc, [ascii("hi")]))).toBe("00 04 68 69");
    expect(new FrameReader(inc).push(bytes(0, 4, 0x68, 0x69)).map(text)).toEqual(["hi"]);
    const adj = lengthPrefixed({ width: 1, adjust: 2 }); // field counts 2 bytes less than the payload
    expect(hex(encodeAll(adj, [ascii("hey")]))).toBe("01 68 65 79");
    expect(new FrameReader(adj).push(bytes(1, 0x68, 0x65, 0x79)).map(text)).toEqual(["hey"]);
    expect(() => encodeAll(adj, [ascii("h")])).toThrow(MalformedFrame);
  });

  test("u64 fields above 32 bits are written and read big-endian", () => {
    // A negative adjust of 2^40 makes the field of a 2-byte frame 2^40 + 2.
    const c = lengthPrefixed({ width: 8, adjust: -(2 ** 40) });
    expect(hex(encodeAll(c, [ascii("hi")]))).toBe("00 00 01 00 00 00 00 02 68 69");
    expect(new FrameReader(c).push(bytes(0, 0, 1, 0, 0, 0, 0, 2, 0x68, 0x69)).map(text)).toEqual(["hi"]);
  });

  test("lengthIncludesHeader with a length smaller than the header is MalformedFrame", () => {
    const { error, queued } = errorAtHeader(
      lengthPrefixed({ width: 4, lengthIncludesHeader: true }),
      bytes(0, 0, 0, 3),
    );
    expect(error).toBeInstanceOf(MalformedFrame);
    expect((error as Error).message).toContain("smaller than the 4-byte header");
    expect(queued).toBe(4);
  });

  test("u32 0x80000000 is FrameTooLarge once the 4 header bytes are in, with nothing else buffered", () => {
    const { error, at, queued } = errorAtHeader(lengthPrefixed({ width: 4 }), bytes(0x80, 0, 0, 0));
    expect(error).toBeInstanceOf(FrameTooLarge);
    expect([at, queued]).toEqual([4, 4]);
    expect((error as Error).message).toBe("frame of 2147483648 bytes exceeds the 1048576-byte limit");
  });

  test("u64 2^60 and 2^64 - 1 are FrameTooLarge after the 8 header bytes", () => {
    for (const header of [bytes(0x10, 0, 0, 0, 0, 0, 0, 0), bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)]) {
      const { error, at, queued } = errorAtHeader(lengthPrefixed({ width: 8, maxFrame: 1024 }), header);
      expect(error).toBeInstanceOf(FrameTooLarge);
      expect([at, queued]).toEqual([8, 8]);
      expect((error as FrameTooLarge).size).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
    }
    const { error } = errorAtHeader(lengthPrefixed({ width: 8, maxFrame: 1024 }), bytes(0x10, 0, 0, 0, 0, 0, 0, 0));
    expect((error as Error).message).toBe("frame of 1152921504606846976 bytes exceeds the 1024-byte limit");
  });

  test("u64 lengths above 2^53 are FrameTooLarge even with the largest possible limit", () => {
    const { error } = errorAtHeader(
      lengthPrefixed({ width: 8, maxFrame: Number.MAX_SAFE_INTEGER }),
      bytes(0, 0x20, 0, 0, 0, 0, 0, 0),
    );
    expect(error).toBeInstanceOf(FrameTooLarge);
  });

  test("a frame of exactly maxFrame is accepted", () => {
    const c = lengthPrefixed({ width: 2, maxFrame: 3 });
    expect(new FrameReader(c).push(bytes(0, 3, 1, 2, 3)).length).toBe(1);
  });

  test("a partial header or body at EOF is UnexpectedEof", () => {
    for (const partial of [bytes(0), bytes(0, 5, 1, 2)]) {
      const r = new FrameReader(lengthPrefixed({ width: 2 }));
      r.push(partial);
      expect(() => r.end()).toThrow(UnexpectedEof);
    }
  });

  test("encoder: FrameTooLarge for frames over the limit or the field width", () => {
    expect(() => encodeAll(lengthPrefixed({ width: 2, maxFrame: 3 }), [new Uint8Array(4)])).toThrow(FrameTooLarge);
    expect(() => encodeAll(lengthPrefixed({ width: 1 }), [new Uint8Array(256)])).toThrow(FrameTooLarge);
    expect(() => encodeAll(lengthPrefixed({ width: 1, lengthIncludesHeader: true }), [new Uint8Array(255)])).toThrow(
      FrameTooLarge,
    );
    expect(encodeAll(lengthPrefixed({ width: 1 }), [new Uint8Array(255)]).length).toBe(256);
  });

  test("encoder: a large payload goes out zero-copy after its header", () => {
    const big = new Uint8Array(70_000);
    const parts: Uint8Array[] = [];
    lengthPrefixed({ width: 4 }).encode(big, (b) => parts.push(b));
    expect(hex(parts[0]!)).toBe("00 01 11 70");
    expect(parts[1]).toBe(big);
  });

  test("options are validated", () => {
    expect(() => lengthPrefixed({ width: 3 as LengthWidth })).toThrow(RangeError);
    expect(() => lengthPrefixed({ width: 2, maxFrame: -1 })).toThrow(RangeError);
    expect(() => lengthPrefixed({ width: 2, adjust: 0.5 })).toThrow(RangeError);
  });
});

describe("asciiLengthPrefixed", () => {
  test('the socket guide\'s "5 numeric characters" header', () => {
    const c = asciiLengthPrefixed({ digits: 5 });
    expect(text(encodeAll(c, [ascii("hello")]))).toBe("00005hello");
    expect(new FrameReader(c).push(ascii("00005hello00000")).map(text)).toEqual(["hello", ""]);
  });

  test("split anywhere", () => {
    const r = new FrameReader(asciiLengthPrefixed({ digits: 3 }));
    const got = "002hi010abcdefghij".split("").flatMap((ch) => r.push(ascii(ch)).map(text));
    expect(got).toEqual(["hi", "abcdefghij"]);
  });

  test("a non-digit header byte is MalformedFrame as soon as it arrives", () => {
    const { error, at } = errorAtHeader(asciiLengthPrefixed({ digits: 5 }), ascii("00x05"));
    expect(error).toBeInstanceOf(MalformedFrame);
    expect(at).toBe(3);
    expect(() => new FrameReader(asciiLengthPrefixed({ digits: 2 })).push(ascii(" 5hello"))).toThrow(MalformedFrame);
    expect(() => new FrameReader(asciiLengthPrefixed({ digits: 2 })).push(ascii("-1"))).toThrow(MalformedFrame);
  });

  test("an oversize length is FrameTooLarge after only the header", () => {
    const { error, at, queued } = errorAtHeader(asciiLengthPrefixed({ digits: 5, maxFrame: 1000 }), ascii("01001"));
    expect(error).toBeInstanceOf(FrameTooLarge);
    expect([at, queued]).toEqual([5, 5]);
    const big = errorAtHeader(asciiLengthPrefixed({ digits: 20 }), ascii("99999999999999999999"));
    expect(big.error).toBeInstanceOf(FrameTooLarge);
    expect(big.queued).toBe(20);
  });

  test("encoder: FrameTooLarge when the length has more digits than the header", () => {
    expect(() => encodeAll(asciiLengthPrefixed({ digits: 1 }), [new Uint8Array(10)])).toThrow(FrameTooLarge);
    expect(text(encodeAll(asciiLengthPrefixed({ digits: 1 }), [ascii("123456789")]))).toBe("9123456789");
    expect(() => encodeAll(asciiLengthPrefixed({ digits: 5, maxFrame: 4 }), [new Uint8Array(5)])).toThrow(
      FrameTooLarge,
    );
  });

  test("partial frame at EOF and option validation", () => {
    const r = new FrameReader(asciiLengthPrefixed({ digits: 5 }));
    r.push(ascii("0001"));
    expect(() => r.end()).toThrow(UnexpectedEof);
    expect(() => asciiLengthPrefixed({ digits: 0 })).toThrow(RangeError);
    expect(() => asciiLengthPrefixed({ digits: 21 })).toThrow(RangeError);
  });
});

describe("length-prefixed: properties", () => {
  const binParams = fc.record({
    width: fc.constantFrom(...widths),
    maxFrame: fc.integer({ min: 0, max: 40 }),
    lengthIncludesHeader: fc.boolean(),
    adjust: fc.integer({ min: -3, max: 3 }),
  }).filter((p) => p.adjust <= p.maxFrame);
  // With a positive adjust, payloads shorter than adjust cannot be expressed.
  const frameFor = (p: { maxFrame: number; adjust: number }) =>
    fc.uint8Array({ minLength: Math.max(0, p.adjust), maxLength: p.maxFrame });

  test("property: binary frames round-trip under any split", () => {
    assertRoundTrip(binParams, lengthPrefixed, (p) => fc.array(frameFor(p), { maxLength: 10 }), sameBytes);
  });

  test("property: ascii frames round-trip under any split", () => {
    const params = fc.record({ digits: fc.integer({ min: 2, max: 20 }), maxFrame: fc.integer({ min: 0, max: 60 }) });
    assertRoundTrip(
      params,
      asciiLengthPrefixed,
      (p) => fc.array(fc.uint8Array({ maxLength: p.maxFrame }), { maxLength: 10 }),
      sameBytes,
    );
  });

  test("property: binary garbage yields only CodecErrors; at most header + maxFrame buffered", () => {
    assertGarbageSafe(binParams, lengthPrefixed, (p) => p.width + p.maxFrame, () => biasedBytes([0, 1, 2, 3, 4, 5]));
  });

  test("property: ascii garbage yields only CodecErrors; at most header + maxFrame buffered", () => {
    const params = fc.record({ digits: fc.integer({ min: 1, max: 20 }), maxFrame: fc.integer({ min: 0, max: 60 }) });
    assertGarbageSafe(
      params,
      asciiLengthPrefixed,
      (p) => p.digits + p.maxFrame,
      () => biasedBytes([0x30, 0x30, 0x30, 0x31, 0x32, 0x35]),
    );
  });

  test("property: any oversize length field is FrameTooLarge with only the header buffered", () => {
    const cases = fc.record({ width: fc.constantFrom(...widths), maxFrame: fc.integer({ min: 0, max: 200 }) }).chain((
      p,
    ) =>
      fc.uint8Array({ minLength: p.width, maxLength: p.width })
        .filter((h) => h.reduce((v, b) => v * 256 + b, 0) > p.maxFrame)
        .map((header) => ({ ...p, header }))
    );
    fc.assert(
      fc.property(cases, ({ width, maxFrame, header }) => {
        const { error, at, queued } = errorAtHeader(lengthPrefixed({ width, maxFrame }), header);
        expect(error).toBeInstanceOf(FrameTooLarge);
        expect(at).toBe(width);
        expect(queued).toBe(width);
      }),
      { numRuns: RUNS },
    );
  });

  test("property: any ascii header over the limit is FrameTooLarge with only the header buffered", () => {
    // maxFrame below the largest header value, so an oversize header exists.
    const params = fc.integer({ min: 1, max: 20 }).chain((digits) =>
      fc.record({ digits: fc.constant(digits), maxFrame: fc.integer({ min: 0, max: Math.min(200, 10 ** digits - 2) }) })
    );
    const cases = params.chain((p) =>
      fc.array(fc.integer({ min: 0x30, max: 0x39 }), { minLength: p.digits, maxLength: p.digits })
        .filter((h) => Number(String.fromCharCode(...h)) > p.maxFrame)
        .map((h) => ({ ...p, header: Uint8Array.from(h) }))
    );
    fc.assert(
      fc.property(cases, ({ digits, maxFrame, header }) => {
        const { error, at, queued } = errorAtHeader(asciiLengthPrefixed({ digits, maxFrame }), header);
        expect(error).toBeInstanceOf(FrameTooLarge);
        expect([at, queued]).toEqual([digits, digits]);
      }),
      { numRuns: RUNS },
    );
  });
});
