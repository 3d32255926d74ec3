// The app service's in-flight bound (issue 9, defect 2), with real sockets: a client that
// pipelines requests to an async handler has at most maxInFlight of them in flight, and
// the server stops reading from it while at the bound.
import { describe, expect, test } from "vitest";
import { ByteQueue, decodeEofAll } from "../../../src/codec/index.ts";
import { decodeJson, jsonMessage } from "../../../src/app/content.ts";
import { appEnvelope, type AppMessage, encodeMessage } from "../../../src/app/envelope.ts";
import { type AppReply, handleRequest } from "../../../src/app/handler.ts";
import { DEFAULT_DICTIONARY } from "../../../src/app/dictionary.ts";
import { DEFAULT_MAX_IN_FLIGHT, type ServerOptions } from "../../../src/server/options.ts";
import { appService, type AppServiceOptions } from "../../../src/services/app.ts";
import { concat, waitFor } from "../../support/sockets.ts";
import { openRaw, serve, talk } from "../services/support.ts";

const replies = (bytes: Uint8Array): AppMessage[] => {
  const q = new ByteQueue();
  q.push(bytes);
  return decodeEofAll(appEnvelope({ maxContent: 1 << 30 }), q);
};
const results = (bytes: Uint8Array) => replies(bytes).map((m) => (decodeJson(m) as { result?: unknown }).result);
const echo = (v: unknown) => jsonMessage({ action: "echo", value: v });
const pipelined = (n: number) => concat(Array.from({ length: n }, (_, i) => encodeMessage(echo(i))));
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);
const nextTick = () => new Promise<void>((r) => setTimeout(r, 0));

describe("in-flight requests per connection are bounded", () => {
  test.each<[string, number, Partial<ServerOptions>, AppServiceOptions]>([
    ["the default", DEFAULT_MAX_IN_FLIGHT, {}, {}],
    ["ServerOptions.maxInFlight", 8, { maxInFlight: 8 }, {}],
    ["the service's own maxInFlight", 5, { maxInFlight: 100 }, { maxInFlight: 5 }],
  ])("%s: 2,000 pipelined requests, never more in flight than the bound, all answered in order", async (
    _name,
    bound,
    options,
    serviceOptions,
  ) => {
    let inFlight = 0;
    let peak = 0;
    const s = await serve(
      appService({
        ...serviceOptions,
        handler: async (req): Promise<AppReply> => {
          peak = Math.max(peak, ++inFlight);
          await nextTick();
          inFlight--;
          return handleRequest(req, DEFAULT_DICTIONARY);
        },
      }),
      options,
    );
    try {
      const r = await talk(s.addr, [pipelined(2000)], { timeoutMs: 30_000 });
      expect(results(r.received)).toEqual(upTo(2000));
      expect(peak).toBe(bound);
      // Reading was paused at the bound and resumed as replies went out.
      expect(s.readState[0]!.pauses).toBeGreaterThan(0);
      expect(s.readState[0]!.resumes).toBe(s.readState[0]!.pauses);
    } finally {
      await s.stop();
    }
  });

  test("while the bound is reached, reading is paused; it resumes once replies go out", async () => {
    const held: (() => void)[] = [];
    let hold = true;
    let calls = 0;
    const s = await serve(
      appService({
        handler: (req) => {
          calls++;
          const reply = handleRequest(req, DEFAULT_DICTIONARY);
          return hold ? new Promise<AppReply>((res) => held.push(() => res(reply))) : reply;
        },
      }),
      { maxInFlight: 8 },
    );
    const raw = await openRaw(s.addr);
    try {
      raw.conn.write(pipelined(100));
      await waitFor(() => calls >= 8, "8 requests in the handler");
      // Paused in the same step that dispatched the 8th: nothing more was decoded.
      expect(s.readState[0]!.paused).toBe(true);
      expect(calls).toBe(8);
      expect(raw.received().length).toBe(0);
      hold = false;
      for (const release of held.splice(0)) release();
      await waitFor(() => replies(raw.received()).length === 100, "all 100 replies");
      expect(results(raw.received())).toEqual(upTo(100));
      expect(calls).toBe(100);
      expect(s.readState[0]!.paused).toBe(false);
    } finally {
      raw.conn.close();
      await raw.closed;
      await s.stop();
    }
  });

  test("a handler that never answers: the bound holds and the frame deadline cuts the connection", async () => {
    let calls = 0;
    const s = await serve(
      appService({
        handler: () => {
          calls++;
          return new Promise<AppReply>(() => {});
        },
      }),
      { maxInFlight: 4, frameMs: 300, drainMs: 200 },
    );
    try {
      const before = s.server.counters.get("frame-timeout");
      const r = await talk(s.addr, [pipelined(500)], { halfClose: false });
      expect(r.received.length).toBe(0);
      expect(calls).toBe(4);
      expect(s.server.counters.get("frame-timeout")).toBe(before + 1);
    } finally {
      await s.stop();
    }
  });
});
