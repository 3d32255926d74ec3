// Framed echo (`serve --service echo --framing SPEC`) over a real server core, for every
// framing: back-to-back frames in one write, a frame trickled one byte per write (which
// the server reads in many reads), framing errors closing through ctx.fail, and the
// frame deadline on a partial frame.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseFraming } from "../../../src/codec/index.ts";
import { framedEchoService } from "../../../src/services/framed-echo.ts";
import { concat, pattern, sameBytes, sleep, waitFor } from "../../support/sockets.ts";
import { openRaw, type Running, serve, talk, text, trickle } from "./support.ts";

/** A payload of about `size` bytes that the framing can carry. */
function payloadFor(spec: string, i: number, size: number): Uint8Array {
  if (spec.startsWith("fixed:")) return pattern(Number(spec.slice(6)), i + 1);
  if (spec === "line" || spec === "crlf") return text(`frame ${i} `.padEnd(size, String.fromCharCode(97 + (i % 26))));
  if (spec === "delim:00") return pattern(size, i + 1).map((b) => b || 1);
  if (spec === "lp:u8") return pattern(Math.min(size, 255), i + 1);
  return pattern(size, i + 1); // any bytes, zeros and newlines included
}

function encodeAll(spec: string, frames: Uint8Array[]): Uint8Array {
  const codec = parseFraming(spec);
  const parts: Uint8Array[] = [];
  for (const f of frames) codec.encode(f, (b) => parts.push(b));
  return concat(parts);
}

const SPECS = ["line", "crlf", "fixed:16", "lp:u8", "lp:u16", "lp:u32", "lp:u64", "lp:ascii5", "delim:00"];

describe("framed echo", () => {
  for (const spec of SPECS) {
    describe(spec, () => {
      let s: Running;
      beforeAll(async () => void (s = await serve(framedEchoService(spec, 1024 * 1024))));
      afterAll(() => s.stop());

      test("100 frames back to back in one write come back intact and in order", async () => {
        const frames = Array.from({ length: 100 }, (_, i) => payloadFor(spec, i, 1 + ((i * 37) % 200)));
        if (spec.startsWith("lp:")) frames[0] = new Uint8Array(0); // an empty frame too
        const wire = encodeAll(spec, frames);
        const r = await talk(s.addr, [wire]);
        expect(r.error).toBeUndefined();
        expect(r.gotEnd).toBe(true);
        expect(sameBytes(r.received, wire)).toBe(true);
      });

      test("one frame sent one byte per write, in many reads, comes back intact", async () => {
        const wire = encodeAll(spec, [payloadFor(spec, 7, 64)]);
        const r = await trickle(s, wire);
        expect(r.error).toBeUndefined();
        expect(sameBytes(r.received, wire)).toBe(true);
        expect(r.reads, `${wire.length} bytes in ${r.reads} reads`).toBeGreaterThanOrEqual(wire.length / 4);
      });

      test("frames are echoed as soon as they are complete, before the half-close", async () => {
        const raw = await openRaw(s.addr);
        const wire = encodeAll(spec, [payloadFor(spec, 1, 40), payloadFor(spec, 2, 40)]);
        raw.conn.write(wire);
        await waitFor(() => raw.received().length === wire.length, "both frames echoed");
        raw.conn.end();
        await raw.closed;
        expect(sameBytes(raw.received(), wire)).toBe(true);
      });
    });
  }

  describe("eof (the whole stream is one frame)", () => {
    let s: Running;
    beforeAll(async () => void (s = await serve(framedEchoService("eof", 1024 * 1024))));
    afterAll(() => s.stop());

    test("echoed after the half-close, whether sent in one write or byte by byte (many reads)", async () => {
      const wire = pattern(300, 9);
      const one = await talk(s.addr, [wire]);
      expect(sameBytes(one.received, wire)).toBe(true);
      const trickled = await trickle(s, wire);
      expect(sameBytes(trickled.received, wire)).toBe(true);
      expect(trickled.reads, `${wire.length} bytes in ${trickled.reads} reads`).toBeGreaterThanOrEqual(wire.length / 4);
    });

    test("an empty stream is an empty frame: nothing comes back, clean close", async () => {
      const r = await talk(s.addr, []);
      expect(r.received.length).toBe(0);
      expect(r.gotEnd).toBe(true);
    });
  });

  describe("framing errors close the connection through ctx.fail", () => {
    let s: Running;
    beforeAll(async () => void (s = await serve(framedEchoService("lp:u16", 100), { frameMs: 500 })));
    afterAll(() => s.stop());

    test("a length over --max-frame: the frames before it are echoed, then the connection closes", async () => {
      const good = encodeAll("lp:u16", [text("ok")]);
      const before = s.server.counters.get("protocol-error");
      // 0x00c8 = 200 > 100: rejected from the length field, the body never needs to arrive.
      const r = await talk(s.addr, [concat([good, new Uint8Array([0x00, 0xc8, 1, 2, 3])])], { halfClose: false });
      expect(sameBytes(r.received, good)).toBe(true);
      expect(s.server.counters.get("protocol-error")).toBe(before + 1);
      expect(s.logs.join("")).toMatch(/protocol-error.*exceeds the 100-byte limit/);
    });

    test("a partial frame at the half-close is an error the codec names", async () => {
      const before = s.server.counters.get("protocol-error");
      const r = await talk(s.addr, [new Uint8Array([0, 10, 1, 2])]);
      expect(r.received.length).toBe(0);
      expect(s.server.counters.get("protocol-error")).toBe(before + 1);
      expect(s.logs.join("")).toMatch(/stream ended inside a frame/);
    });

    test("a partial frame left hanging hits the frame deadline, however it trickles", async () => {
      // A 100-byte frame trickled one byte per 100 ms would take 10 s. The deadline (500 ms)
      // runs from the frame's first byte, so the server must cut the connection while the
      // trickle goes on; a clock reset by each byte would never expire during the trickle.
      const TRICKLE = 30; // bytes, 100 ms apart: 3 s, six frame deadlines
      const before = s.server.counters.get("frame-timeout");
      const raw = await openRaw(s.addr);
      raw.conn.write(new Uint8Array([0, 100]));
      let sent = 0;
      while (sent < TRICKLE && s.server.counters.get("frame-timeout") === before) {
        raw.conn.write(new Uint8Array([sent & 0xff]));
        sent++;
        await sleep(100);
      }
      // Asserted on which came first, not on a duration: the cut, then the trickle's end.
      const cutDuringTrickle = s.server.counters.get("frame-timeout") === before + 1;
      expect(cutDuringTrickle, `no frame timeout during a ${TRICKLE}-byte trickle (${sent} bytes sent)`).toBe(true);
      expect(sent).toBeLessThan(TRICKLE);
      await raw.closed;
      expect(s.server.counters.get("frame-timeout")).toBe(before + 1);
    });

    test("the server keeps serving after errors", async () => {
      const wire = encodeAll("lp:u16", [text("still here")]);
      const r = await talk(s.addr, [wire]);
      expect(sameBytes(r.received, wire)).toBe(true);
    });
  });

  test("ascii length headers reject a non-digit at once", async () => {
    const s = await serve(framedEchoService("lp:ascii5", 1000));
    try {
      const r = await talk(s.addr, [text("00x")], { halfClose: false });
      expect(r.received.length).toBe(0);
      expect(s.logs.join("")).toMatch(/protocol-error.*not an ASCII digit/);
    } finally {
      await s.stop();
    }
  });

  test("a bad spec is refused when the service is created", () => {
    expect(() => framedEchoService("lp:u7", 1000)).toThrow(/bad framing/);
    expect(() => framedEchoService("nope", 1000)).toThrow(/unknown framing/);
  });
});
