// Replies a handler produces that cannot go on the wire (issue 9, defects 1 and 7): they
// fail only their own connection, with a logged reason, whether the handler answered at
// once, with a promise, or with a non-Promise thenable; the server keeps serving.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ByteQueue, decodeEofAll } from "../../../src/codec/index.ts";
import { decodeJson, jsonMessage } from "../../../src/app/content.ts";
import { appEnvelope, type AppMessage, encodeMessage, makeHeader } from "../../../src/app/envelope.ts";
import { type AppReply, handleRequest } from "../../../src/app/handler.ts";
import { DEFAULT_DICTIONARY } from "../../../src/app/dictionary.ts";
import { appService, type RequestHandler } from "../../../src/services/app.ts";
import { concat } from "../../support/sockets.ts";
import { type Running, serve, talk } from "../services/support.ts";

const enc = new TextEncoder();
const replies = (bytes: Uint8Array): AppMessage[] => {
  const q = new ByteQueue();
  q.push(bytes);
  return decodeEofAll(appEnvelope({ maxContent: 1 << 30 }), q);
};
const body = (m: AppMessage) => decodeJson(m) as { result?: unknown; error?: string };
const echo = (v: unknown) => jsonMessage({ action: "echo", value: v });

/** Replies the envelope encoder must refuse, each for its own reason. */
const BAD_REPLIES: [string, () => AppReply, RegExp][] = [
  [
    "content-length does not match the content",
    () => ({ message: { header: makeHeader("text/json", "utf-8", 99), content: enc.encode("{}") } }),
    /content-length 99 does not match/,
  ],
  [
    "header over the 64 KiB limit",
    () => ({ message: { header: makeHeader("x".repeat(70_000), "binary", 0), content: new Uint8Array(0) } }),
    /app header/,
  ],
  [
    "a header value JSON cannot serialise",
    () => ({
      message: { header: { ...makeHeader("text/json", "utf-8", 2), big: 1n }, content: enc.encode("{}") },
    }),
    /BigInt/i,
  ],
];

/** How the handler hands its reply back. */
const STYLES: [string, (reply: AppReply) => ReturnType<RequestHandler>][] = [
  ["sync", (r) => r],
  ["promise", (r) => Promise.resolve(r)],
  ["later promise", (r) => new Promise((res) => setTimeout(() => res(r), 5))],
  // A thenable that is not a Promise (defect 7: it was taken for a reply and crashed the encoder).
  ["thenable", (r) => ({ then: (res: (v: AppReply) => void) => void setTimeout(() => res(r), 1) }) as never],
];

describe("a reply that cannot be encoded fails only its connection", () => {
  let s: Running;
  let bad: () => AppReply = BAD_REPLIES[0]![1];
  let style: (reply: AppReply) => ReturnType<RequestHandler> = STYLES[0]![1];
  beforeAll(async () => {
    s = await serve(appService({
      handler: (req) => {
        const value = (decodeJson(req) as { value?: unknown }).value;
        return style(value === "bad" ? bad() : handleRequest(req, DEFAULT_DICTIONARY));
      },
    }));
  });
  afterAll(() => s.stop());

  for (const [styleName, styleFn] of STYLES) {
    test.each(BAD_REPLIES)(`${styleName} handler: %s`, async (_name, badFn, reason) => {
      style = styleFn;
      bad = badFn;
      const before = s.server.counters.get("protocol-error");
      const wire = concat([encodeMessage(echo(1)), encodeMessage(echo("bad")), encodeMessage(echo(3))]);
      const r = await talk(s.addr, [wire], { halfClose: false });
      // The reply before it goes out, then an internal-error reply, then a clean close (FIN).
      expect(replies(r.received).map((m) => body(m))).toEqual([
        { result: 1 },
        { result: "Error: internal server error.", error: "internal" },
      ]);
      expect(r.gotEnd).toBe(true);
      expect(s.server.counters.get("protocol-error")).toBe(before + 1);
      const line = s.logs.findLast((l) => l.includes("reply could not be encoded"));
      expect(line).toMatch(reason);
      // The server is still up and serving.
      const after = await talk(s.addr, [encodeMessage(echo("still here"))]);
      expect(replies(after.received).map((m) => body(m).result)).toEqual(["still here"]);
    });
  }

  test("a thenable handler's good replies are written in order", async () => {
    style = STYLES[3]![1];
    const wire = concat([1, 2, 3].map((i) => encodeMessage(echo(i))));
    const r = await talk(s.addr, [wire]);
    expect(replies(r.received).map((m) => body(m).result)).toEqual([1, 2, 3]);
    expect(r.gotEnd).toBe(true);
  });
});
