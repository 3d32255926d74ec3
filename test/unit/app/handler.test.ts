// The app server's answers, without sockets.
import { describe, expect, test } from "vitest";
import { parseSummary } from "../../../src/app/binary-summary.ts";
import { binaryMessage, decodeJson, jsonMessage, SERVER_BINARY_TYPE } from "../../../src/app/content.ts";
import { DEFAULT_DICTIONARY, dictionaryFrom } from "../../../src/app/dictionary.ts";
import { type AppMessage, makeHeader } from "../../../src/app/envelope.ts";
import { handleRequest } from "../../../src/app/handler.ts";
import { sha256Hex } from "../../../src/app/sha256.ts";

const enc = new TextEncoder();
const ask = (request: unknown, dict = DEFAULT_DICTIONARY) => {
  const r = handleRequest(jsonMessage(request), dict);
  return { body: decodeJson(r.message), fatal: r.fatal, type: r.message.header["content-type"] };
};
const raw = (contentType: string, encoding: string, content: Uint8Array): AppMessage => ({
  header: makeHeader(contentType, encoding, content.length),
  content,
});

describe("text/json requests", () => {
  test("search finds the tutorial's entries, emoji keys included", () => {
    expect(ask({ action: "search", value: "morpheus" }).body).toEqual({ result: "Follow the white rabbit. \u{1f430}" });
    expect(ask({ action: "search", value: "ring" }).body).toEqual({
      result: "In the caves beneath the Misty Mountains. \u{1f48d}",
    });
    expect(ask({ action: "search", value: "\u{1f436}" }).body).toEqual({ result: "\u{1f43e} Playing ball! \u{1f3d0}" });
  });

  test("a missing key gets the tutorial's reply, not an error", () => {
    const r = ask({ action: "search", value: "neo" });
    expect(r.body).toEqual({ result: 'No match for "neo".' });
    expect(r.fatal).toBeUndefined();
  });

  test("search uses the --data dictionary; prototype names are ordinary keys", () => {
    const dict = dictionaryFrom(JSON.parse('{"a": {"nested": [1]}, "__proto__": "proto!", "x": ""}'));
    expect(ask({ action: "search", value: "a" }, dict).body).toEqual({ result: { nested: [1] } });
    expect(ask({ action: "search", value: "__proto__" }, dict).body).toEqual({ result: "proto!" });
    expect(ask({ action: "search", value: "constructor" }, dict).body).toEqual({
      result: 'No match for "constructor".',
    });
    expect(ask({ action: "search", value: "x" }, dict).body).toEqual({ result: "" });
  });

  test("echo returns the value as it came, any JSON", () => {
    expect(ask({ action: "echo", value: "hi" }).body).toEqual({ result: "hi" });
    expect(ask({ action: "echo", value: { a: [1, null] } }).body).toEqual({ result: { a: [1, null] } });
    expect(ask({ action: "echo" }).body).toEqual({ result: null });
  });

  test("any other action gets the tutorial's JSON error result, marked, and is not fatal", () => {
    const r = ask({ action: "frobnicate", value: 1 });
    expect(r.body).toEqual({ result: 'Error: invalid action "frobnicate".', error: "invalid-action" });
    expect(r.fatal).toBeUndefined();
    expect(ask({ value: 1 }).body).toMatchObject({ result: 'Error: invalid action "null".' });
  });

  test("content we cannot read gets a fatal JSON error reply", () => {
    const cases: [AppMessage, RegExp][] = [
      [raw("text/json", "utf-8", enc.encode("{nope")), /content is not valid JSON/],
      [raw("text/json", "utf-8", new Uint8Array([0x22, 0xff, 0x22])), /not valid UTF-8/],
      [raw("text/json", "utf-16", enc.encode("{}")), /content-encoding must be utf-8 or ascii/],
      [raw("text/json", "ascii", enc.encode('{"v":"\u00e9"}')), /not 7-bit ASCII/],
      [raw("text/json", "utf-8", enc.encode("[1]")), /request is not a JSON object/],
    ];
    for (const [msg, why] of cases) {
      const r = handleRequest(msg, DEFAULT_DICTIONARY);
      expect(r.fatal).toMatch(why);
      const body = decodeJson(r.message) as { result: string; error: string };
      expect(body.result).toMatch(/^Error: /);
      expect(typeof body.error).toBe("string");
    }
  });

  test("content-type and encoding names are matched case-insensitively", () => {
    const r = handleRequest(raw("Text/JSON", "UTF8", enc.encode('{"action":"echo","value":1}')), DEFAULT_DICTIONARY);
    expect(decodeJson(r.message)).toEqual({ result: 1 });
  });
});

describe("binary requests", () => {
  test("the reply is binary, gives the length and SHA-256, with content-encoding binary", () => {
    const content = enc.encode("hello binary");
    const r = handleRequest(binaryMessage(content), DEFAULT_DICTIONARY);
    expect(r.message.header["content-type"]).toBe(SERVER_BINARY_TYPE);
    expect(r.message.header["content-encoding"]).toBe("binary");
    expect(new TextDecoder().decode(r.message.content)).toBe(`length=12 sha256=${sha256Hex(content)}`);
    expect(parseSummary(r.message.content)).toEqual({ length: 12, sha256: sha256Hex(content) });
  });

  test("any content type but text/json is binary, even one claiming JSON", () => {
    const r = handleRequest(raw("application/json", "utf-8", enc.encode("{}")), DEFAULT_DICTIONARY);
    expect(r.message.header["content-type"]).toBe(SERVER_BINARY_TYPE);
  });
});
