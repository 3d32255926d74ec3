// The built-in services take their limits from the server options unless given their own,
// and codec limits are validated (issue 9, defect 4).
import { describe, expect, test } from "vitest";
import { ByteQueue, decodeEofAll, lengthPrefixed } from "../../../src/codec/index.ts";
import { binaryMessage, decodeJson } from "../../../src/app/content.ts";
import { appEnvelope, AppEnvelopeCodec, type AppMessage, encodeMessage } from "../../../src/app/envelope.ts";
import { appService } from "../../../src/services/app.ts";
import { framedEchoService } from "../../../src/services/framed-echo.ts";
import { pattern } from "../../support/sockets.ts";
import { serve, talk } from "./support.ts";

const replies = (bytes: Uint8Array): AppMessage[] => {
  const q = new ByteQueue();
  q.push(bytes);
  return decodeEofAll(appEnvelope({ maxContent: 1 << 30 }), q);
};
const lp16 = (payload: Uint8Array): Uint8Array => {
  const out: Uint8Array[] = [];
  lengthPrefixed({ width: 2 }).encode(payload, (b) => void out.push(b));
  return new Uint8Array(out.flatMap((b) => [...b]));
};

describe("ServerOptions.maxFrame reaches the built-in services", () => {
  test("framed echo without its own limit: frames up to the server's maxFrame, one over is refused", async () => {
    const s = await serve(framedEchoService("lp:u16"), { maxFrame: 16 });
    try {
      const ok = await talk(s.addr, [lp16(pattern(16, 1))]);
      expect(ok.received).toEqual(lp16(pattern(16, 1)));
      const before = s.server.counters.get("protocol-error");
      const over = await talk(s.addr, [lp16(pattern(17, 2))], { halfClose: false });
      expect(over.received.length).toBe(0);
      expect(s.server.counters.get("protocol-error")).toBe(before + 1);
      expect(s.logs.join("")).toMatch(/17.*16/);
    } finally {
      await s.stop();
    }
  });

  test("framed echo with its own limit keeps it", async () => {
    const s = await serve(framedEchoService("lp:u16", 32), { maxFrame: 16 });
    try {
      const r = await talk(s.addr, [lp16(pattern(30, 3))]);
      expect(r.received).toEqual(lp16(pattern(30, 3)));
    } finally {
      await s.stop();
    }
  });

  test("app without maxContent: content over the server's maxFrame gets content-too-large", async () => {
    const s = await serve(appService(), { maxFrame: 100 });
    try {
      const ok = await talk(s.addr, [encodeMessage(binaryMessage(pattern(100, 4)))]);
      expect(replies(ok.received)[0]!.header["content-type"]).toMatch(/binary/);
      const over = await talk(s.addr, [encodeMessage(binaryMessage(pattern(101, 5)))], { halfClose: false });
      expect(decodeJson(replies(over.received)[0]!)).toMatchObject({ error: "content-too-large" });
    } finally {
      await s.stop();
    }
  });

  test("app with its own maxContent keeps it", async () => {
    const s = await serve(appService({ maxContent: 200 }), { maxFrame: 100 });
    try {
      const r = await talk(s.addr, [encodeMessage(binaryMessage(pattern(150, 6)))]);
      expect(replies(r.received)[0]!.header["content-type"]).toMatch(/binary/);
    } finally {
      await s.stop();
    }
  });
});

describe("codec limits are validated (RangeError naming the limit)", () => {
  test.each([NaN, -1, 1.5, Infinity])("maxContent %s", (v) => {
    expect(() => new AppEnvelopeCodec({ maxContent: v })).toThrow(/^maxContent must be an integer >= 0/);
    expect(() => appEnvelope({ maxContent: v })).toThrow(RangeError);
    expect(() => appService({ maxContent: v })).toThrow(/maxContent/);
  });
  test.each([NaN, -1, 2.5])("maxHeader %s", (v) => {
    expect(() => new AppEnvelopeCodec({ maxHeader: v })).toThrow(/^maxHeader must be an integer >= 0/);
    expect(() => appService({ maxHeader: v })).toThrow(RangeError);
  });
  test.each([NaN, -1, 1.5])("framed echo maxFrame %s", (v) => {
    expect(() => framedEchoService("line", v)).toThrow(/maxFrame/);
  });
});
