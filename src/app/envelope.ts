// The app protocol's message envelope, wire-compatible with the classic Python socket
// tutorial's multi-connection app (libclient.py / libserver.py):
//
//   +---------+----------------------------+---------------------------+
//   | u16 BE  | JSON header, UTF-8         | content                   |
//   | hdr len | byteorder, content-type,   | content-length bytes      |
//   |         | content-encoding,          |                           |
//   |         | content-length             |                           |
//   +---------+----------------------------+---------------------------+
//
// Both limits are enforced from the length fields before anything is buffered: the
// header length as soon as its 2 bytes arrive, content-length as soon as the header
// parses. The parsed header is kept while the content trickles in (no re-parsing).

import { concatBytes } from "../bytes.ts";
import type { ByteQueue, Codec } from "../codec/index.ts";
import { FrameTooLarge, MalformedFrame } from "../codec/index.ts";
import { checkCount } from "../codec/limits.ts";
import { parseJson } from "../json-parse.ts";
import { AppProtocolError } from "./errors.ts";

export const REQUIRED_HEADERS = ["byteorder", "content-type", "content-encoding", "content-length"] as const;

export interface AppHeader {
  byteorder: string;
  "content-type": string;
  "content-encoding": string;
  "content-length": number;
  /** Extra fields are allowed and passed through. */
  [field: string]: unknown;
}

export interface AppMessage {
  header: AppHeader;
  content: Uint8Array;
}

export interface EnvelopeLimits {
  /** Largest JSON header in bytes (default 64 KiB; the u16 field itself stops at 65535). */
  maxHeader?: number;
  /** Largest content in bytes (default 1 MiB; the app service defaults to the server's `maxFrame`). */
  maxContent?: number;
}

export const DEFAULT_MAX_HEADER = 64 * 1024;
export const DEFAULT_MAX_CONTENT = 1024 * 1024;
/** What the u16 header-length field can express. */
export const MAX_HEADER_FIELD = 0xffff;

/** This machine's byte order, sent in our headers as Python's sys.byteorder would be. */
export const HOST_BYTEORDER: "little" | "big" = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? "little" : "big";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** A header for `length` bytes of content, fields in the tutorial's order. */
export function makeHeader(contentType: string, contentEncoding: string, length: number): AppHeader {
  return {
    byteorder: HOST_BYTEORDER,
    "content-type": contentType,
    "content-encoding": contentEncoding,
    "content-length": length,
  };
}

const STRING_HEADERS = ["content-type", "content-encoding"] as const;

/** Validates a decoded JSON header; throws AppProtocolError naming what is wrong. */
export function checkHeader(value: unknown, maxContent: number): AppHeader {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AppProtocolError("header-not-json", "header is not a JSON object");
  }
  const h = value as Record<string, unknown>;
  // Checked field by field first: no array per message on the path every request takes.
  const complete = Object.hasOwn(h, "byteorder") && Object.hasOwn(h, "content-type") &&
    Object.hasOwn(h, "content-encoding") && Object.hasOwn(h, "content-length");
  const missing = complete ? [] : REQUIRED_HEADERS.filter((f) => !Object.hasOwn(h, f));
  if (missing.length > 0) {
    throw new AppProtocolError(
      "missing-header",
      `missing required header${missing.length > 1 ? "s" : ""} ${missing.map((f) => `"${f}"`).join(", ")}`,
    );
  }
  const len = h["content-length"];
  if (typeof len !== "number" || !Number.isSafeInteger(len) || len < 0) {
    throw new AppProtocolError(
      "bad-content-length",
      `content-length must be a non-negative integer, got ${short(len)}`,
    );
  }
  if (len > maxContent) {
    throw new AppProtocolError("content-too-large", `content-length ${len} exceeds the ${maxContent}-byte limit`);
  }
  for (const f of STRING_HEADERS) {
    if (typeof h[f] !== "string") {
      throw new AppProtocolError("bad-header", `header "${f}" must be a string, got ${short(h[f])}`);
    }
  }
  if (h.byteorder !== "little" && h.byteorder !== "big") {
    throw new AppProtocolError("bad-header", `header "byteorder" must be "little" or "big", got ${short(h.byteorder)}`);
  }
  return h as AppHeader;
}

/** Parses the header bytes (UTF-8 JSON object with the required fields). */
export function parseHeader(bytes: Uint8Array, maxContent: number): AppHeader {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new AppProtocolError("header-not-utf8", "header is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = parseJson(text);
  } catch {
    throw new AppProtocolError("header-not-json", "header is not valid JSON");
  }
  return checkHeader(value, maxContent);
}

export class AppEnvelopeCodec implements Codec<AppMessage> {
  readonly maxHeader: number;
  readonly maxContent: number;
  /** The current message's header once parsed, while its content is still arriving. */
  #header: AppHeader | undefined;

  /** Throws a RangeError naming the limit for NaN, a negative or a fractional limit. */
  constructor(limits: EnvelopeLimits = {}) {
    this.maxHeader = checkCount("maxHeader", limits.maxHeader ?? DEFAULT_MAX_HEADER);
    this.maxContent = checkCount("maxContent", limits.maxContent ?? DEFAULT_MAX_CONTENT);
  }

  /** True when a header has been consumed and its content is incomplete. */
  get partial(): boolean {
    return this.#header !== undefined;
  }

  decode(input: ByteQueue): AppMessage | undefined {
    if (this.#header === undefined) {
      if (input.length < 2) return undefined;
      const hlen = input.readUint(0, 2);
      if (hlen > this.maxHeader) {
        throw new AppProtocolError(
          "header-too-large",
          `header length ${hlen} exceeds the ${this.maxHeader}-byte limit`,
        );
      }
      if (hlen === 0) throw new AppProtocolError("empty-header", "header length is 0");
      if (input.length < 2 + hlen) return undefined;
      input.skip(2);
      this.#header = parseHeader(input.take(hlen), this.maxContent);
    }
    const len = this.#header["content-length"];
    if (input.length < len) return undefined;
    const header = this.#header;
    this.#header = undefined;
    return { header, content: input.take(len) };
  }

  decodeEof(input: ByteQueue): AppMessage | undefined {
    const msg = this.decode(input);
    if (msg !== undefined || (input.length === 0 && this.#header === undefined)) return msg;
    const what = this.#header
      ? `${input.length} of ${this.#header["content-length"]} content bytes`
      : `${input.length} header bytes`;
    throw new AppProtocolError("truncated", `stream ended inside a message (${what})`);
  }

  encode(msg: AppMessage, out: (bytes: Uint8Array) => void): void {
    const { header, content } = msg;
    if (header["content-length"] !== content.length) {
      throw new MalformedFrame(
        `content-length ${header["content-length"]} does not match the ${content.length}-byte content`,
      );
    }
    if (content.length > this.maxContent) {
      throw new FrameTooLarge(content.length, this.maxContent, { what: "app content" });
    }
    const json = encoder.encode(JSON.stringify(header));
    if (json.length > Math.min(this.maxHeader, MAX_HEADER_FIELD)) {
      throw new FrameTooLarge(json.length, Math.min(this.maxHeader, MAX_HEADER_FIELD), { what: "app header" });
    }
    // Small messages go out as one array (one write); large content is not copied.
    const small = content.length <= 4096;
    const bytes = new Uint8Array(2 + json.length + (small ? content.length : 0));
    bytes[0] = json.length >>> 8;
    bytes[1] = json.length & 0xff;
    bytes.set(json, 2);
    if (small) bytes.set(content, 2 + json.length);
    out(bytes);
    if (!small) out(content);
  }
}

/** One codec per connection: it keeps the header of a message whose content is arriving. */
export function appEnvelope(limits: EnvelopeLimits = {}): AppEnvelopeCodec {
  return new AppEnvelopeCodec(limits);
}

/** The wire bytes of one message, as one array (for tests and one-shot clients). */
export function encodeMessage(msg: AppMessage, limits: EnvelopeLimits = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  new AppEnvelopeCodec(limits).encode(msg, (b) => parts.push(b));
  return parts.length === 1 ? parts[0]! : concatBytes(parts);
}

// A value for an error message: JSON, cut short.
function short(v: unknown): string {
  const s = v === undefined ? "nothing" : JSON.stringify(v) ?? String(v);
  return s.length > 40 ? s.slice(0, 37) + "..." : s;
}
