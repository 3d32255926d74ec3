import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { FrameTooLarge } from "../../../src/codec/errors.ts";
import { FrameReader } from "../../../src/codec/frame-reader.ts";
import { FRAMING_NAMES, FRAMING_SPECS, framingFactory, parseFraming } from "../../../src/codec/framing-spec.ts";
import { ascii, assertGarbageSafe, assertRoundTrip, encodeAll, hex, sameBytes, text } from "./helpers.ts";

const wire = (spec: string, ...frames: string[]) => hex(encodeAll(parseFraming(spec), frames.map(ascii)));

describe("parseFraming", () => {
  test("each spec gives the framing it names", () => {
    expect(wire("line", "hi")).toBe("68 69 0a");
    expect(wire("crlf", "hi")).toBe("68 69 0d 0a");
    expect(wire("fixed:2", "hi")).toBe("68 69");
    expect(wire("lp:u8", "hi")).toBe("02 68 69");
    expect(wire("lp:u16", "hi")).toBe("00 02 68 69");
    expect(wire("lp:u32", "hi")).toBe("00 00 00 02 68 69");
    expect(wire("lp:u64", "hi")).toBe("00 00 00 00 00 00 00 02 68 69");
    expect(wire("lp:ascii5", "hi")).toBe("30 30 30 30 32 68 69");
    expect(wire("lp:ascii1", "hi")).toBe("32 68 69");
    expect(wire("delim:00", "hi")).toBe("68 69 00");
    expect(wire("delim:0D0A", "hi")).toBe("68 69 0d 0a");
    expect(wire("delim:0x2c2c", "hi")).toBe("68 69 2c 2c");
    expect(wire("eof", "hi")).toBe("68 69");
    expect(wire(" LP:U16 ", "hi")).toBe("00 02 68 69");
  });

  test("crlf decodes strictly on CR LF; line keeps a CR", () => {
    expect(new FrameReader(parseFraming("crlf")).push(ascii("a\nb\r\n")).map(text)).toEqual(["a\nb"]);
    expect(new FrameReader(parseFraming("line")).push(ascii("a\r\n")).map(text)).toEqual(["a\r"]);
  });

  test("eof framing yields the message at end()", () => {
    const r = new FrameReader(parseFraming("eof"));
    r.push(ascii("whole"));
    expect(r.end().map(text)).toEqual(["whole"]);
  });

  test("maxFrame applies to every framing", () => {
    for (const spec of ["line", "crlf", "lp:u8", "lp:u16", "lp:u32", "lp:u64", "lp:ascii5", "delim:00", "eof"]) {
      expect(() => encodeAll(parseFraming(spec, { maxFrame: 3 }), [ascii("abcd")]), spec).toThrow(FrameTooLarge);
    }
    expect(() => parseFraming("fixed:4", { maxFrame: 3 })).toThrow(/fixed:4/);
  });

  test("unknown framing names list what is accepted", () => {
    expect(() => parseFraming("foo")).toThrow(
      'unknown framing "foo"; expected line, crlf, fixed:N, lp:u8|u16|u32|u64|asciiN, delim:HEX or eof',
    );
    expect(() => parseFraming("")).toThrow(/unknown framing ""/);
  });

  test.each([
    ["fixed", /missing argument/],
    ["fixed:", /missing argument/],
    ["fixed:0", /N must be an integer from 1/],
    ["fixed:abc", /N must be an integer/],
    ["fixed:1.5", /N must be an integer/],
    ["lp", /missing argument/],
    ["lp:u24", /expected lp:u8, lp:u16, lp:u32, lp:u64 or lp:asciiN/],
    ["lp:ascii", /expected lp:u8/],
    ["lp:ascii0", /N from 1 to 20/],
    ["lp:ascii21", /N from 1 to 20/],
    ["delim:", /missing argument/],
    ["delim:0", /even number of hex digits/],
    ["delim:zz", /even number of hex digits/],
    ["line:5", /takes no argument/],
    ["eof:", /takes no argument/],
  ])("bad spec %s is a clear error", (spec, message) => {
    expect(() => parseFraming(spec)).toThrow(message);
    expect(() => parseFraming(spec)).toThrow(`bad framing "${spec}"`);
  });

  test("spec names for help text", () => {
    expect(FRAMING_NAMES).toEqual([
      "line",
      "crlf",
      "fixed:N",
      "lp:u8",
      "lp:u16",
      "lp:u32",
      "lp:u64",
      "lp:asciiN",
      "delim:HEX",
      "eof",
    ]);
    for (const s of FRAMING_SPECS) expect(s.description.length).toBeGreaterThan(5);
  });

  test("framingFactory validates once and makes independent codecs", () => {
    const make = framingFactory("line");
    const a = new FrameReader(make());
    const b = new FrameReader(make());
    a.push(ascii("half"));
    expect(b.push(ascii("other\n")).map(text)).toEqual(["other"]);
    expect(a.push(ascii("\n")).map(text)).toEqual(["half"]);
  });

  // Every spec the CLI accepts, with frames that spec can carry.
  const specs = fc.constantFrom(
    "line",
    "crlf",
    "fixed:3",
    "lp:u8",
    "lp:u16",
    "lp:u32",
    "lp:u64",
    "lp:ascii3",
    "lp:ascii20",
    "delim:0d0a0d0a",
    "delim:00",
  );
  const framesFor = (spec: string) => {
    const frame = spec === "fixed:3"
      ? fc.uint8Array({ minLength: 3, maxLength: 3 })
      : fc.array(fc.integer({ min: 0x20, max: 0x7e }), { maxLength: 30 }).map((a) => Uint8Array.from(a));
    return fc.array(frame, { maxLength: 8 });
  };

  test("property: every spec round-trips under any split", () => {
    assertRoundTrip(specs, (spec) => parseFraming(spec, { maxFrame: 64 }), framesFor, sameBytes);
  });

  test("property: every spec survives garbage with only CodecErrors and bounded buffering", () => {
    // Largest header (20 ASCII digits) or delimiter (4 bytes) plus the frame limit.
    assertGarbageSafe(
      fc.constantFrom(...["eof"], ...["line", "lp:u32", "lp:u64", "lp:ascii20", "delim:0d0a0d0a", "fixed:3"]),
      (spec) => parseFraming(spec, { maxFrame: 64 }),
      () => 64 + 20,
    );
  });
});
