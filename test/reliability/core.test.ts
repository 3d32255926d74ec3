// In-process checks of the hardening logic in src/server that the process-level suite
// cannot pin down exactly: source keys, the learned connection cap, log rate limits,
// and the frame clock with a session that reports completed frames.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { LogFields, Logger, LogLevel } from "../../src/log.ts";
import { Admission } from "../../src/server/admission.ts";
import { CloseCounters } from "../../src/server/close-reasons.ts";
import { type ConnectionHost, LINGER_DISCARD_BYTES, ServerConnection } from "../../src/server/connection.ts";
import { defaultOptions } from "../../src/server/options.ts";
import { RateLimitedLog } from "../../src/server/rate-limited-log.ts";
import { sourceKey } from "../../src/server/source.ts";
import type { Service, Session, SessionContext } from "../../src/server/service.ts";
import type { Addr, Conn } from "../../src/transport.ts";

function memoryLog(): Logger & { lines: { level: LogLevel; msg: string; fields?: LogFields }[] } {
  const lines: { level: LogLevel; msg: string; fields?: LogFields }[] = [];
  const log = (level: LogLevel, msg: string, fields?: LogFields) => void lines.push({ level, msg, fields });
  return {
    lines,
    log,
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
  };
}

const tcp = (hostname: string): Addr => ({ transport: "tcp", hostname, port: 1 });

describe("sourceKey", () => {
  test("IPv4 as is; IPv4-mapped IPv6 as IPv4; IPv6 by /64; unix exempt", () => {
    expect(sourceKey(tcp("127.0.0.2"))).toBe("127.0.0.2");
    expect(sourceKey(tcp("::ffff:127.0.0.2"))).toBe("127.0.0.2");
    expect(sourceKey(tcp("::FFFF:7f00:2"))).toBe("127.0.0.2");
    expect(sourceKey(tcp("2001:db8::1"))).toBe(sourceKey(tcp("2001:db8:0:0:ffff::99")));
    expect(sourceKey(tcp("2001:db8:0:1::1"))).not.toBe(sourceKey(tcp("2001:db8::1")));
    expect(sourceKey(tcp("fe80::1%eth0"))).toBe("fe80:0:0:0::/64");
    expect(sourceKey({ transport: "unix", path: "/tmp/s" })).toBeUndefined();
  });
});

describe("Admission", () => {
  const limits = { maxConns: 100, maxConnsPerIp: 3, maxRatePerIp: 0 };

  test("per-source cap counts per key; unix peers only against the global cap", () => {
    const a = new Admission(limits);
    for (let i = 0; i < 3; i++) expect(a.admit("10.0.0.1", 0)).toBeUndefined();
    expect(a.admit("10.0.0.1", 0)).toBe("max-conns-per-ip");
    expect(a.admit("10.0.0.2", 0)).toBeUndefined();
    for (let i = 0; i < 10; i++) expect(a.admit(undefined, 0)).toBeUndefined();
    a.release("10.0.0.1");
    expect(a.admit("10.0.0.1", 0)).toBeUndefined();
    expect(a.total).toBe(3 + 1 + 10);
  });

  test("a peer's source: its sourceKey while a per-source limit is on, none otherwise (and none for unix peers)", () => {
    const peer = tcp("10.0.0.1");
    expect(new Admission(limits).sourceOf(peer)).toBe("10.0.0.1");
    expect(new Admission({ ...limits, maxConnsPerIp: 0, maxRatePerIp: 5 }).sourceOf(peer)).toBe("10.0.0.1");
    expect(new Admission({ ...limits, maxConnsPerIp: 0 }).sourceOf(peer)).toBeUndefined();
    expect(new Admission(limits).sourceOf({ transport: "unix", path: "/tmp/s" })).toBeUndefined();
  });

  test("EMFILE lowers the global cap below the connections open, never raises it", () => {
    const a = new Admission({ ...limits, maxConnsPerIp: 0 });
    for (let i = 0; i < 10; i++) a.admit("10.0.0.1", 0);
    expect(a.descriptorsExhausted(), "too few connections to blame").toBeUndefined();
    for (let i = 0; i < 30; i++) a.admit("10.0.0.1", 0);
    const cap = a.descriptorsExhausted();
    expect(cap).toBe(40 - 8);
    expect(a.maxConns).toBe(cap);
    expect(a.admit("10.0.0.9", 0)).toBe("max-conns");
    for (let i = 0; i < 20; i++) a.release("10.0.0.1");
    expect(a.admit("10.0.0.9", 0)).toBeUndefined();
    expect(a.descriptorsExhausted(), "21 open: the cap would not go lower").toBe(21 - 8);
  });

  test("rate per source: a full bucket, then refill over time", () => {
    const a = new Admission({ maxConns: 0, maxConnsPerIp: 0, maxRatePerIp: 5 });
    const admitted = Array.from({ length: 8 }, () => a.admit("10.0.0.1", 1000)).filter((r) => r === undefined).length;
    expect(admitted).toBe(5);
    expect(a.admit("10.0.0.1", 1100)).toBe("max-rate-per-ip");
    expect(a.admit("10.0.0.1", 1200)).toBeUndefined(); // 0.2 s × 5/s = one token
  });
});

describe("log rate limits", () => {
  test("at most the budget per second, then one summary line", () => {
    const log = memoryLog();
    const r = new RateLimitedLog(log, "things", 3);
    for (let i = 0; i < 10; i++) r.write("warn", "thing", { i }, 1000);
    expect(log.lines.length).toBe(3);
    r.flush(2100);
    expect(log.lines.at(-1)).toMatchObject({ msg: "things not logged (rate limit)", fields: { suppressed: 7 } });
  });

  test("counters: exact per reason; a totals line at most once a second while they change", () => {
    const log = memoryLog();
    const c = new CloseCounters(log, 2);
    for (let i = 0; i < 50; i++) c.record("frame-timeout", { peer: "x" }, 1000);
    c.record("idle-timeout", {}, 1000);
    c.tick(1000);
    c.tick(1500);
    c.tick(2600);
    const totals = log.lines.filter((l) => l.msg === "policy close totals");
    expect(totals.length).toBe(1);
    expect(totals[0]!.fields).toEqual({ "frame-timeout": 50, "idle-timeout": 1 });
    expect(log.lines.filter((l) => l.msg === "connection closed by policy").length).toBe(2);
  });
});

/** A Conn that records what the core asked of it. */
function fakeConn(): Conn & { aborted: boolean; ended: boolean } {
  const c = {
    id: 1,
    remote: tcp("10.0.0.1"),
    local: tcp("10.0.0.254"),
    queued: 0,
    closed: false,
    aborted: false,
    ended: false,
    write: () => true,
    pause() {},
    resume() {},
    end() {
      c.ended = true;
    },
    close(mode?: "graceful" | "abort") {
      c.closed = true;
      c.aborted = mode === "abort";
    },
    setNoDelay() {},
    setKeepAlive() {},
  };
  return c;
}

/** A line-framed session that counts complete frames (the framesDone() the core looks for). */
function lineService(countFrames: boolean): Service {
  return {
    name: "lines",
    open(_ctx: SessionContext): Session & { framesDone?(): number } {
      let partial = 0;
      let frames = 0;
      const s: Session & { framesDone?(): number } = {
        data(chunk) {
          for (const b of chunk) {
            if (b === 10) {
              frames++;
              partial = 0;
            } else partial++;
          }
        },
        end() {},
        midFrame: () => partial > 0,
      };
      if (countFrames) s.framesDone = () => frames;
      return s;
    },
  };
}

function host(): ConnectionHost {
  const log = memoryLog();
  return {
    options: { ...defaultOptions(1024), frameMs: 1000 },
    log,
    counters: new CloseCounters(log),
    draining: false,
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe("frame clock", () => {
  // The core reads Date.now() on input; a fake clock lets time pass between chunks.
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => vi.useRealTimers());
  const at = (ms: number) => vi.setSystemTime(1_000_000 + ms);

  test("trickled bytes of one frame do not restart it", () => {
    const conn = fakeConn();
    const c = new ServerConnection(conn, lineService(true), host(), Date.now(), "10.0.0.1");
    for (let t = 0; t <= 1000; t += 200) {
      at(t);
      c.onData(bytes("a"));
      c.checkDeadlines(Date.now());
    }
    at(1100);
    c.checkDeadlines(Date.now());
    expect(conn.closed && conn.aborted).toBe(true);
  });

  test("a session that reports completed frames restarts it when a chunk ends mid-frame", () => {
    const conn = fakeConn();
    const c = new ServerConnection(conn, lineService(true), host(), Date.now(), "10.0.0.1");
    c.onData(bytes("first half"));
    at(900);
    c.onData(bytes(" done\nnext")); // completes the line and starts another
    at(1500);
    c.checkDeadlines(Date.now());
    expect(conn.closed, "not cut: the frame in progress started with the last chunk").toBe(false);
    at(2000);
    c.checkDeadlines(Date.now());
    expect(conn.closed, "cut once that frame is older than the deadline").toBe(true);
  });

  test("without framesDone() the same client is cut (the gap the services must close)", () => {
    const conn = fakeConn();
    const c = new ServerConnection(conn, lineService(false), host(), Date.now(), "10.0.0.1");
    c.onData(bytes("first half"));
    at(900);
    c.onData(bytes(" done\nnext"));
    at(1500);
    c.checkDeadlines(Date.now());
    expect(conn.closed).toBe(true);
  });
});

describe("lingering close", () => {
  test("a peer that keeps streaming after our FIN is cut after the discard budget", () => {
    const conn = fakeConn();
    const h = host();
    const c = new ServerConnection(conn, lineService(true), h, 0, "10.0.0.1");
    c.fail("bad frame");
    expect(conn.ended).toBe(true);
    c.onData(new Uint8Array(LINGER_DISCARD_BYTES));
    expect(conn.closed).toBe(false);
    c.onData(new Uint8Array(1));
    expect(conn.closed && conn.aborted).toBe(true);
    expect(h.counters.get("linger-discard")).toBe(1);
  });
});
