// Each mode's reply check on its own: the right reply passes whatever way it is split,
// and any wrong byte, a stale reply, extra bytes or an undecodable frame is a VerifyError.
import { describe, expect, test } from "vitest";
import { AppExchange, EchoExchange, FramedExchange, VerifyError } from "../../../src/bench/exchange.ts";
import { framingFactory } from "../../../src/codec/index.ts";
import { encodeMessage } from "../../../src/app/envelope.ts";
import { jsonMessage } from "../../../src/app/content.ts";
import { parseProcStat } from "../../../src/bench/proc-cpu.ts";

/** Feed `bytes` in pieces of `step`; true when the exchange says the reply is complete. */
function feedAll(ex: { feed(c: Uint8Array): boolean }, bytes: Uint8Array, step: number): boolean {
  let done = false;
  for (let i = 0; i < bytes.length; i += step) {
    expect(done).toBe(false); // nothing may follow a complete reply
    done = ex.feed(bytes.slice(i, i + step));
  }
  return done;
}

describe("bench exchanges", () => {
  test("echo: the bytes sent, split anywhere, complete the reply; each request differs from the last", () => {
    const ex = new EchoExchange(100);
    const first = ex.next().slice();
    expect(feedAll(ex, first, 7)).toBe(true);
    const second = ex.next().slice();
    expect(second).not.toEqual(first); // the counter stamp: a replayed reply cannot pass
    expect(() => ex.feed(first)).toThrow(VerifyError);
  });

  test("echo: one flipped byte, or bytes beyond the request, is a VerifyError naming the offset", () => {
    const ex = new EchoExchange(64);
    const bad = ex.next().slice();
    bad[40]! ^= 1;
    expect(() => feedAll(ex, bad, 16)).toThrow(/reply byte 40 is 0x\w\w, sent 0x\w\w/);
    const ex2 = new EchoExchange(8);
    const sent = ex2.next();
    expect(() => ex2.feed(new Uint8Array([...sent, 0x61]))).toThrow(/longer than the 8 bytes sent/);
  });

  test.each(["lp:u32", "line", "delim:00", "fixed:32", "lp:ascii5"])("framed %s: the frame back passes", (spec) => {
    const ex = new FramedExchange(framingFactory(spec)(), 32);
    for (let i = 0; i < 3; i++) {
      const wire = ex.next().slice();
      expect(feedAll(ex, wire, 5)).toBe(true);
    }
  });

  test("framed: a changed payload byte, a frame that does not decode, or a second frame fail", () => {
    const ex = new FramedExchange(framingFactory("lp:u16")(), 10);
    const wire = ex.next().slice();
    const bad = wire.slice();
    bad[5]! ^= 1;
    expect(() => ex.feed(bad)).toThrow(/reply byte 3 is/);
    const ex2 = new FramedExchange(framingFactory("lp:u16", { maxFrame: 100 })(), 10);
    ex2.next();
    expect(() => ex2.feed(new Uint8Array([0xff, 0xff]))).toThrow(/does not decode/);
    const ex3 = new FramedExchange(framingFactory("lp:u16")(), 10);
    const w3 = ex3.next();
    expect(() => ex3.feed(new Uint8Array([...w3, ...w3]))).toThrow(/more bytes after the reply frame/);
  });

  test("framed: a size the framing cannot carry is refused when the exchange is built", () => {
    expect(() => new FramedExchange(framingFactory("lp:u8")(), 300).next()).toThrow(/255/);
  });

  test("app: the echoed value passes; another value or a non-JSON reply fails", () => {
    const ex = new AppExchange(20, 1 << 20);
    const request = ex.next();
    const value = new TextDecoder().decode(request).match(/"value":"([a-z]+)"/)![1]!;
    expect(feedAll(ex, encodeMessage(jsonMessage({ result: value })), 9)).toBe(true);
    ex.next();
    expect(() => ex.feed(encodeMessage(jsonMessage({ result: value })))).toThrow(/not the value sent/);
    ex.next();
    expect(() => ex.feed(new Uint8Array([0, 2, 0x7b, 0x7d]))).toThrow(VerifyError);
  });
});

describe("/proc/PID/stat", () => {
  test("utime + stime in 1/100 s, with a command name holding spaces and parentheses", () => {
    const line = "4242 (my (odd) server) S 1 4242 4242 0 -1 4194304 1200 0 0 0 250 130 0 0 20 0 11 0 9999 0 0";
    expect(parseProcStat(line)).toBeCloseTo(3.8, 9);
    expect(() => parseProcStat("garbage")).toThrow(/not a \/proc\/PID\/stat line/);
  });
});
