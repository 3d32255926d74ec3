// The app envelope codec: wire layout, incremental decoding at any split, and every
// limit and malformed-input case (checked from the length fields before buffering).
import { describe, expect, test } from "vitest";
import { ByteQueue, CodecError, decodeAll, decodeEofAll } from "../../../src/codec/index.ts";
import { binaryMessage, jsonMessage } from "../../../src/app/content.ts";
import { appEnvelope, type AppMessage, encodeMessage, HOST_BYTEORDER, makeHeader } from "../../../src/app/envelope.ts";
import { AppProtocolError } from "../../../src/app/errors.ts";
import { concat, pattern, sameBytes } from "../../support/sockets.ts";

const enc = new TextEncoder();
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

/** A message with a hand-written header (as a peer might send it). */
function rawMessage(header: string | Uint8Array, content: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = typeof header === "string" ? enc.encode(header) : header;
  return concat([new Uint8Array([h.length >> 8, h.length & 0xff]), h, content]);
}

function decodeOne(wire: Uint8Array, limits = {}): AppMessage[] {
  const q = new ByteQueue();
  q.push(wire);
  return decodeEofAll(appEnvelope(limits), q);
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppProtocolError) return err.reason;
    throw err;
  }
  throw new Error("no error thrown");
}

describe("wire layout", () => {
  test("2-byte big-endian header length, JSON header in the tutorial's field order, content", () => {
    const msg = { header: { ...makeHeader("text/json", "utf-8", 2), byteorder: "little" }, content: enc.encode("{}") };
    const wire = encodeMessage(msg);
    const header = '{"byteorder":"little","content-type":"text/json","content-encoding":"utf-8","content-length":2}';
    expect(wire[0]).toBe(0);
    expect(wire[1]).toBe(header.length);
    expect(new TextDecoder().decode(wire.subarray(2, 2 + header.length))).toBe(header);
    expect(hex(wire.subarray(2 + header.length))).toBe("7b 7d");
  });

  test("our headers carry this machine's byte order, like Python's sys.byteorder", () => {
    expect(["little", "big"]).toContain(HOST_BYTEORDER);
    expect(jsonMessage(1).header.byteorder).toBe(HOST_BYTEORDER);
  });

  test("a header over 255 bytes uses both length bytes", () => {
    const msg = {
      header: { ...makeHeader("text/json", "utf-8", 0), pad: "x".repeat(300) },
      content: new Uint8Array(0),
    };
    const wire = encodeMessage(msg);
    expect((wire[0]! << 8) | wire[1]!).toBe(wire.length - 2);
    expect(decodeOne(wire)[0]!.header.pad).toBe("x".repeat(300));
  });

  test("encoding refuses a content-length that does not match the content", () => {
    expect(() => encodeMessage({ header: makeHeader("x", "binary", 3), content: new Uint8Array(2) })).toThrow(
      CodecError,
    );
  });

  test("Python-style headers (spaces after separators, extra fields, non-ASCII) decode", () => {
    const content = enc.encode('{"action": "search", "value": "\u{1f436}"}');
    const header =
      `{"byteorder": "big", "content-type": "text/json", "content-encoding": "utf-8", "content-length": ${content.length}, "x-extra": "\u00e9"}`;
    const [msg] = decodeOne(rawMessage(header, content));
    expect(msg!.header["content-type"]).toBe("text/json");
    expect(msg!.header["x-extra"]).toBe("\u00e9");
    expect(sameBytes(msg!.content, content)).toBe(true);
  });
});

describe("incremental decoding", () => {
  const messages = [
    jsonMessage({ action: "search", value: "ring" }),
    binaryMessage(pattern(3000, 5)),
    binaryMessage(new Uint8Array(0)),
    jsonMessage({ action: "echo", value: "\u{1f430}".repeat(50) }),
  ];
  const wire = concat(messages.map((m) => encodeMessage(m)));

  test("back-to-back messages in one chunk all come out, in order", () => {
    const out = decodeOne(wire);
    expect(out).toHaveLength(messages.length);
    out.forEach((m, i) => expect(sameBytes(m.content, messages[i]!.content)).toBe(true));
  });

  test("split at every byte position, and one byte at a time, gives the same messages", () => {
    for (let cut = 0; cut <= wire.length; cut += 7) {
      const codec = appEnvelope();
      const q = new ByteQueue();
      q.push(wire.slice(0, cut));
      const out = decodeAll(codec, q);
      q.push(wire.slice(cut));
      out.push(...decodeEofAll(codec, q));
      expect(out.map((m) => m.content.length)).toEqual(messages.map((m) => m.content.length));
    }
    const codec = appEnvelope();
    const q = new ByteQueue();
    const out: AppMessage[] = [];
    for (let i = 0; i < wire.length; i++) {
      q.push(wire.slice(i, i + 1));
      out.push(...decodeAll(codec, q));
    }
    expect(out).toHaveLength(messages.length);
    expect(sameBytes(out[1]!.content, messages[1]!.content)).toBe(true);
  });

  test("partial reports a parsed header whose content is still missing", () => {
    const codec = appEnvelope();
    const q = new ByteQueue();
    const one = encodeMessage(binaryMessage(pattern(10, 1)));
    q.push(one.slice(0, one.length - 3));
    expect(decodeAll(codec, q)).toEqual([]);
    expect(codec.partial).toBe(true);
    q.push(one.slice(one.length - 3));
    expect(decodeAll(codec, q)).toHaveLength(1);
    expect(codec.partial).toBe(false);
  });
});

describe("limits are checked from the length fields, before buffering", () => {
  test("header length over maxHeader: rejected with only the 2 length bytes received", () => {
    const q = new ByteQueue();
    q.push(new Uint8Array([0x01, 0x00]));
    expect(reason(() => decodeAll(appEnvelope({ maxHeader: 255 }), q))).toBe("header-too-large");
  });

  test("content-length over maxContent: rejected as soon as the header is in, no content needed", () => {
    const q = new ByteQueue();
    q.push(rawMessage(JSON.stringify(makeHeader("binary/x", "binary", 5000))));
    let err: unknown;
    try {
      decodeAll(appEnvelope({ maxContent: 4999 }), q);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppProtocolError);
    expect((err as AppProtocolError).reason).toBe("content-too-large");
    expect((err as CodecError).code).toBe("FRAME_TOO_LARGE");
    expect((err as Error).message).toMatch(/content-length 5000 exceeds the 4999-byte limit/);
  });

  test("the default content limit is 1 MiB", () => {
    const ok = makeHeader("b", "binary", 1024 * 1024);
    const q = new ByteQueue();
    q.push(rawMessage(JSON.stringify(ok)));
    expect(decodeAll(appEnvelope(), q)).toEqual([]); // waits for the content
    expect(reason(() => decodeOne(rawMessage(JSON.stringify(makeHeader("b", "binary", 1024 * 1024 + 1)))))).toBe(
      "content-too-large",
    );
  });
});

describe("malformed input is named", () => {
  const good = (over: Record<string, unknown>) => JSON.stringify({ ...makeHeader("text/json", "utf-8", 0), ...over });
  test.each([
    ["empty header", rawMessage(""), "empty-header"],
    ["header not JSON", rawMessage("{nope"), "header-not-json"],
    ["header JSON but not an object", rawMessage("[1,2]"), "header-not-json"],
    ["header null", rawMessage("null"), "header-not-json"],
    ["header not UTF-8", rawMessage(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), "header-not-utf8"],
    [
      "missing content-length",
      rawMessage('{"byteorder":"little","content-type":"a","content-encoding":"b"}'),
      "missing-header",
    ],
    ["missing everything", rawMessage("{}"), "missing-header"],
    ["negative content-length", rawMessage(good({ "content-length": -1 })), "bad-content-length"],
    ["fractional content-length", rawMessage(good({ "content-length": 1.5 })), "bad-content-length"],
    ["string content-length", rawMessage(good({ "content-length": "2" })), "bad-content-length"],
    ["boolean content-length", rawMessage(good({ "content-length": true })), "bad-content-length"],
    ["content-type not a string", rawMessage(good({ "content-type": 5 })), "bad-header"],
    ["bad byteorder", rawMessage(good({ byteorder: "middle" })), "bad-header"],
  ])("%s", (_name, wire, want) => {
    expect(reason(() => decodeOne(wire))).toBe(want);
  });

  test("the missing-header message lists every missing field", () => {
    expect(() => decodeOne(rawMessage('{"byteorder":"little"}'))).toThrow(
      /missing required headers "content-type", "content-encoding", "content-length"/,
    );
  });

  test("a half-close inside a message is 'truncated' (in the header or in the content)", () => {
    const wire = encodeMessage(binaryMessage(pattern(20, 2)));
    expect(reason(() => decodeOne(wire.slice(0, 1)))).toBe("truncated");
    expect(reason(() => decodeOne(wire.slice(0, 10)))).toBe("truncated");
    expect(reason(() => decodeOne(wire.slice(0, wire.length - 1)))).toBe("truncated");
    expect(decodeOne(new Uint8Array(0))).toEqual([]);
  });
});
