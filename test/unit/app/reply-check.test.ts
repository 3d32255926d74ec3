// checkReply: only a real answer of the app protocol to this request is a success.
import { describe, expect, test } from "vitest";
import { formatSummary, summarize } from "../../../src/app/binary-summary.ts";
import { binaryMessage, jsonMessage } from "../../../src/app/content.ts";
import { checkReply } from "../../../src/app/reply-check.ts";

const enc = new TextEncoder();
const search = jsonMessage({ action: "search", value: "ring" });

describe("checkReply", () => {
  test("a result is an answer, whatever JSON it holds but null", () => {
    expect(checkReply(search, jsonMessage({ result: "found" }))).toEqual({ kind: "result", result: "found" });
    expect(checkReply(search, jsonMessage({ result: { a: [1] } }))).toEqual({ kind: "result", result: { a: [1] } });
    expect(checkReply(search, jsonMessage({ result: 0 }))).toEqual({ kind: "result", result: 0 });
    expect(checkReply(search, jsonMessage({ result: null }))).toEqual({
      kind: "invalid",
      why: `the reply's "result" is null`,
    });
    expect(checkReply(search, jsonMessage({ answer: 1 }))).toEqual({
      kind: "invalid",
      why: `the reply has no "result"`,
    });
  });

  test("the request sent back is caught as an echo, even with its header fields in another order", () => {
    expect(checkReply(search, search)).toEqual({
      kind: "invalid",
      why: "the reply echoes the request: is this an echo server?",
    });
    const reordered = { ...search, header: Object.fromEntries(Object.entries(search.header).reverse()) };
    expect(checkReply(search, reordered as typeof search).kind).toBe("invalid");
    // Another request-looking reply (not byte-identical) is still not an answer.
    const other = jsonMessage({ action: "search", value: "dog" });
    expect(checkReply(search, other)).toEqual({
      kind: "invalid",
      why: `the reply is a request (it has "action" and no "result"): is this an echo server?`,
    });
    const bin = binaryMessage(enc.encode("hello"));
    expect(checkReply(bin, bin).kind).toBe("invalid");
  });

  test("error replies: an error field or an Error: result", () => {
    expect(checkReply(search, jsonMessage({ result: "Error: invalid action.", error: "invalid-action" }))).toEqual({
      kind: "error-reply",
      message: "Error: invalid action.",
    });
    expect(checkReply(search, jsonMessage({ result: "Error: nope" })).kind).toBe("error-reply");
  });

  test("binary replies: not to a text/json request; a summary must match the bytes sent", () => {
    expect(checkReply(search, binaryMessage(enc.encode("x"), "binary/x")).kind).toBe("invalid");
    const req = binaryMessage(enc.encode("hello"));
    const good = binaryMessage(formatSummary(summarize(req.content)), "binary/custom-server-binary-type");
    expect(checkReply(req, good)).toMatchObject({ kind: "binary", matchesBytes: 5 });
    const bad = binaryMessage(formatSummary(summarize(enc.encode("hellO"))), "binary/custom-server-binary-type");
    expect(checkReply(req, bad).kind).toBe("error-reply");
    expect(checkReply(req, binaryMessage(enc.encode("First 10 bytes"), "binary/t"))).toMatchObject({ kind: "binary" });
  });

  test("JSON that is not an object, or not JSON at all", () => {
    expect(checkReply(search, jsonMessage([1, 2] as unknown as Record<string, unknown>))).toEqual({
      kind: "invalid",
      why: "the reply is not a JSON object",
    });
    const broken = { header: { ...search.header, "content-length": 3 }, content: enc.encode("{{{") };
    expect(checkReply(search, broken as typeof search).kind).toBe("invalid");
  });
});
