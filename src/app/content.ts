// Content of app messages: text/json (a JSON value in a text encoding) or binary.

import { type AppMessage, makeHeader } from "./envelope.ts";
import { AppProtocolError } from "./errors.ts";
import { parseJson } from "../json-parse.ts";

export const JSON_TYPE = "text/json";
/** The content types the tutorial's client and server use for binary messages. */
export const CLIENT_BINARY_TYPE = "binary/custom-client-binary-type";
export const SERVER_BINARY_TYPE = "binary/custom-server-binary-type";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** Python codec names we read as UTF-8 (ASCII is checked to be 7-bit). */
const UTF8_NAMES = new Set(["utf-8", "utf8", "u8"]);
const ASCII_NAMES = new Set(["ascii", "us-ascii"]);

function normalize(name: string): string {
  return name.trim().toLowerCase().replaceAll("_", "-");
}

/** Media types are case-insensitive; anything but text/json is binary. */
export function isJson(msg: AppMessage): boolean {
  const type = msg.header["content-type"];
  return type === JSON_TYPE || normalize(type) === JSON_TYPE; // the exact name needs no normalizing
}

/** A text/json message holding `value` as UTF-8 JSON (non-ASCII kept as is, like ensure_ascii=False). */
export function jsonMessage(value: unknown): AppMessage {
  const content = encoder.encode(JSON.stringify(value));
  return { header: makeHeader(JSON_TYPE, "utf-8", content.length), content };
}

/** A binary message with content-encoding "binary". */
export function binaryMessage(content: Uint8Array, contentType = CLIENT_BINARY_TYPE): AppMessage {
  return { header: makeHeader(contentType, "binary", content.length), content };
}

/** Decodes a text/json message's content; throws AppProtocolError when it cannot. */
export function decodeJson(msg: AppMessage): unknown {
  const raw = msg.header["content-encoding"];
  const enc = raw === "utf-8" ? raw : normalize(raw);
  const ascii = ASCII_NAMES.has(enc);
  if (!ascii && !UTF8_NAMES.has(enc)) {
    throw new AppProtocolError(
      "bad-content-encoding",
      `text/json content-encoding must be utf-8 or ascii, got "${msg.header["content-encoding"]}"`,
    );
  }
  let text: string;
  try {
    text = utf8.decode(msg.content);
  } catch {
    throw new AppProtocolError("content-not-utf8", "content is not valid UTF-8");
  }
  // deno-lint-ignore no-control-regex
  if (ascii && /[^\x00-\x7f]/.test(text)) throw new AppProtocolError("content-not-utf8", "content is not 7-bit ASCII");
  try {
    return parseJson(text);
  } catch {
    throw new AppProtocolError("content-not-json", "content is not valid JSON");
  }
}
