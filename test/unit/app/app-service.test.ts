// The app service over a real server core: pipelining, trickled input, replies kept in
// request order when computed asynchronously, error replies then close, deadlines.
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { ByteQueue, decodeEofAll } from "../../../src/codec/index.ts";
import { parseSummary } from "../../../src/app/binary-summary.ts";
import { binaryMessage, decodeJson, isJson, jsonMessage } from "../../../src/app/content.ts";
import { appEnvelope, type AppMessage, encodeMessage, makeHeader } from "../../../src/app/envelope.ts";
import { handleRequest } from "../../../src/app/handler.ts";
import { DEFAULT_DICTIONARY } from "../../../src/app/dictionary.ts";
import { sha256Hex } from "../../../src/app/sha256.ts";
import { appService } from "../../../src/services/app.ts";
import { concat, pattern, sleep, waitFor } from "../../support/sockets.ts";
import { openRaw, type Running, serve, talk, trickle } from "../services/support.ts";

const enc = new TextEncoder();

function replies(bytes: Uint8Array): AppMessage[] {
  const q = new ByteQueue();
  q.push(bytes);
  return decodeEofAll(appEnvelope({ maxContent: 1 << 30 }), q);
}

const body = (m: AppMessage) => decodeJson(m) as { result?: unknown; error?: string };
const search = (v: string) => jsonMessage({ action: "search", value: v });
const echo = (v: unknown) => jsonMessage({ action: "echo", value: v });
const header = (h: Record<string, unknown>) => {
  const json = enc.encode(JSON.stringify(h));
  return concat([new Uint8Array([json.length >> 8, json.length & 0xff]), json]);
};

describe("app service", () => {
  let s: Running;
  beforeAll(async () => void (s = await serve(appService({ maxContent: 64 * 1024 }), { frameMs: 400 })));
  afterAll(() => s.stop());

  test("search answers from the dictionary and the connection ends after our half-close", async () => {
    const r = await talk(s.addr, [encodeMessage(search("ring"))]);
    expect(r.error).toBeUndefined();
    expect(r.gotEnd).toBe(true);
    const [reply] = replies(r.received);
    expect(reply!.header).toMatchObject({ "content-type": "text/json", "content-encoding": "utf-8" });
    expect(body(reply!)).toEqual({ result: "In the caves beneath the Misty Mountains. \u{1f48d}" });
  });

  test("100 requests back to back in one write: 100 replies, in order", async () => {
    const requests = Array.from(
      { length: 100 },
      (_, i) =>
        i % 3 === 0
          ? search(i % 2 ? "morpheus" : `k${i}`)
          : i % 3 === 1
          ? echo(`v${i}`)
          : binaryMessage(pattern(i * 10, i)),
    );
    const r = await talk(s.addr, [concat(requests.map((m) => encodeMessage(m)))]);
    const got = replies(r.received);
    expect(got).toHaveLength(100);
    got.forEach((reply, i) => {
      const want = handleRequest(requests[i]!, DEFAULT_DICTIONARY).message;
      expect(reply.header["content-type"]).toBe(want.header["content-type"]);
      if (isJson(reply)) expect(body(reply)).toEqual(decodeJson(want));
      else expect(parseSummary(reply.content)).toEqual({ length: i * 10, sha256: sha256Hex(requests[i]!.content) });
    });
  });

  test("a request sent one byte per write, in many reads, comes back intact", async () => {
    // Its own server, with the default frame deadline: at 1 to 3 ms a byte (timer
    // granularity differs by runtime) the trickle can outlast this suite's 400 ms one.
    const slow = await serve(appService({ maxContent: 64 * 1024 }));
    try {
      const value = "\u{1f436} trickled " + "x".repeat(100);
      const wire = encodeMessage(echo(value));
      const r = await trickle(slow, wire);
      expect(replies(r.received).map(body)).toEqual([{ result: value }]);
      expect(r.reads, `${wire.length} bytes in ${r.reads} reads`).toBeGreaterThanOrEqual(wire.length / 4);
    } finally {
      await slow.stop();
    }
  });

  test("a one-shot client (no half-close: reads one reply, then closes) is served", async () => {
    const before = s.server.counters.get("protocol-error");
    const raw = await openRaw(s.addr);
    raw.conn.write(encodeMessage(search("morpheus")));
    await waitFor(() => replies(raw.received()).length >= 1, "the reply", 10_000);
    raw.conn.close();
    await raw.closed;
    expect(body(replies(raw.received())[0]!)).toEqual({ result: "Follow the white rabbit. \u{1f430}" });
    expect(s.server.counters.get("protocol-error")).toBe(before);
  });

  test("an invalid action gets an error result and the connection carries on", async () => {
    const r = await talk(s.addr, [encodeMessage(jsonMessage({ action: "x" })), encodeMessage(search("ring"))], {
      gapMs: 20,
    });
    const got = replies(r.received).map(body);
    expect(got[0]).toEqual({ result: 'Error: invalid action "x".', error: "invalid-action" });
    expect(got[1]).toEqual({ result: "In the caves beneath the Misty Mountains. \u{1f48d}" });
  });

  test("a half-close with no request: clean close, no reply", async () => {
    const r = await talk(s.addr, []);
    expect(r.received.length).toBe(0);
    expect(r.gotEnd).toBe(true);
  });

  describe("bad input: a JSON error reply, then the server closes; it stays up", () => {
    const good = (over: Record<string, unknown>) => header({ ...makeHeader("text/json", "utf-8", 2), ...over });
    test.each([
      ["header not JSON", concat([new Uint8Array([0, 5]), enc.encode("{nope")]), "header-not-json"],
      ["header not UTF-8", new Uint8Array([0, 2, 0xff, 0xfe]), "header-not-utf8"],
      ["required header missing", header({ "content-type": "text/json", "content-length": 0 }), "missing-header"],
      ["content-length negative", good({ "content-length": -5 }), "bad-content-length"],
      ["content-length not an integer", good({ "content-length": 2.5 }), "bad-content-length"],
      [
        "content-length over --max-frame (no content sent)",
        good({ "content-length": 64 * 1024 + 1 }),
        "content-too-large",
      ],
      ["content not UTF-8", concat([good({}), new Uint8Array([0xc3, 0x28])]), "content-not-utf8"],
      ["content not JSON", concat([good({}), enc.encode("{[")]), "content-not-json"],
      ["half-close inside a message", good({ "content-length": 10 }), "truncated"],
    ])("%s", async (_name, wire, code) => {
      const before = s.server.counters.get("protocol-error");
      const r = await talk(s.addr, [wire], { halfClose: code === "truncated" });
      const got = replies(r.received);
      expect(got).toHaveLength(1);
      expect(body(got[0]!)).toMatchObject({ error: code });
      expect(String(body(got[0]!).result)).toMatch(/^Error: /);
      expect(r.gotEnd).toBe(true);
      expect(s.server.counters.get("protocol-error")).toBe(before + 1);
      const after = await talk(s.addr, [encodeMessage(search("ring"))]);
      expect(replies(after.received)).toHaveLength(1);
    });

    test("the log gets one clear line per error", async () => {
      const lines = () => s.logs.filter((l) => l.includes("protocol-error") && l.includes("not valid JSON")).length;
      const before = lines();
      await talk(s.addr, [concat([new Uint8Array([0, 1]), enc.encode("x")])], { halfClose: false });
      expect(lines()).toBe(before + 1);
    });

    test("header length over the header limit is refused from the 2 length bytes alone", async () => {
      const small = await serve(appService({ maxHeader: 100 }));
      try {
        const r = await talk(small.addr, [new Uint8Array([0, 101])], { halfClose: false });
        expect(body(replies(r.received)[0]!)).toMatchObject({ error: "header-too-large" });
        expect(small.logs.join("")).toMatch(/header length 101 exceeds the 100-byte limit/);
      } finally {
        await small.stop();
      }
    });

    test("requests before the bad one are answered first, nothing after it", async () => {
      const wire = concat([
        encodeMessage(echo(1)),
        encodeMessage(echo(2)),
        new Uint8Array([0, 3]),
        enc.encode("bad"),
        encodeMessage(echo(3)),
      ]);
      const r = await talk(s.addr, [wire], { halfClose: false });
      const got = replies(r.received).map(body);
      expect(got.map((b) => b.result)).toEqual([1, 2, "Error: header is not valid JSON."]);
    });
  });

  test("a partial message left hanging hits the frame deadline (midFrame reports it)", async () => {
    const before = s.server.counters.get("frame-timeout");
    const raw = await openRaw(s.addr);
    const wire = encodeMessage(binaryMessage(pattern(100, 1)));
    raw.conn.write(wire.subarray(0, 5)); // inside the header
    await raw.closed;
    expect(s.server.counters.get("frame-timeout")).toBe(before + 1);
    const raw2 = await openRaw(s.addr);
    raw2.conn.write(wire.subarray(0, wire.length - 1)); // header done, content short by one
    await raw2.closed;
    expect(s.server.counters.get("frame-timeout")).toBe(before + 2);
  });
});

describe("replies stay in request order when computed asynchronously", () => {
  test("random delays per request, pipelined: replies come back in order", async () => {
    const s = await serve(appService({
      handler: async (req) => {
        await sleep(Math.floor(Math.random() * 30));
        return handleRequest(req, DEFAULT_DICTIONARY);
      },
    }));
    try {
      const wire = concat(Array.from({ length: 40 }, (_, i) => encodeMessage(echo(i))));
      const r = await talk(s.addr, [wire]);
      expect(replies(r.received).map((m) => body(m).result)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    } finally {
      await s.stop();
    }
  });

  test("a slow first reply holds back the quick ones; a failing handler gets an internal-error reply and a close", async () => {
    let n = 0;
    const s = await serve(appService({
      handler: (req) => {
        const i = n++;
        if (i === 0) return sleep(100).then(() => handleRequest(req, DEFAULT_DICTIONARY));
        if (i === 2) return Promise.reject(new Error("boom"));
        return handleRequest(req, DEFAULT_DICTIONARY);
      },
    }));
    try {
      const wire = concat([0, 1, 2, 3].map((i) => encodeMessage(echo(i))));
      const r = await talk(s.addr, [wire], { halfClose: false });
      const got = replies(r.received).map(body);
      expect(got.map((b) => b.result)).toEqual([0, 1, "Error: internal server error."]);
      expect(s.logs.join("")).toMatch(/app request handler failed.*boom/);
    } finally {
      await s.stop();
    }
  });

  // The reply is held until the shutdown has closed its listener and settled the idle
  // connections, so it is certainly still being computed when the drain looks at it.
  test("a graceful shutdown waits for a reply still being computed", async () => {
    let reached!: () => void;
    const inHandler = new Promise<void>((r) => (reached = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const s = await serve(appService({
      handler: async (req) => {
        reached();
        await released;
        return handleRequest(req, DEFAULT_DICTIONARY);
      },
    }));
    const raw = await openRaw(s.addr);
    raw.conn.write(encodeMessage(echo("late")));
    await inHandler; // the request reached the server: its reply is in flight
    const closing = s.server.listeners.map((l) => vi.spyOn(l, "close"));
    const stopping = s.stop();
    // shutdown() closes the listeners, then (in the same continuation) closes whatever is
    // settled; a macrotask after the listeners closed is past that point.
    await Promise.all(closing.map((spy) => spy.mock.results[0]!.value as Promise<void>));
    await sleep(0);
    expect(s.server.connections).toBe(1);
    release();
    await stopping;
    await raw.closed;
    expect(replies(raw.received()).map((m) => body(m).result)).toEqual(["late"]);
  });
});
