// Is this message a well-formed reply of the app protocol to that request? A client must
// not call a reply a success just because it decoded: an echo server sends the request
// back (a valid envelope, but no answer), and a reply without a result answers nothing.

import { parseSummary, summarize } from "./binary-summary.ts";
import { decodeJson, isJson } from "./content.ts";
import type { AppMessage } from "./envelope.ts";

export type ReplyVerdict =
  /** A text/json reply: the value of its "result". */
  | { kind: "result"; result: unknown }
  /** A binary reply; `matchesBytes` when it is a summary ("length=N sha256=HEX") of the request's content. */
  | { kind: "binary"; type: string; content: Uint8Array; matchesBytes?: number }
  /** The server answered with an error ("error" field, or a result starting "Error:"). */
  | { kind: "error-reply"; message: string }
  /** Not a reply of this protocol to this request. */
  | { kind: "invalid"; why: string };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The same header fields with the same values (order aside) and the same content. */
function isEchoOf(reply: AppMessage, request: AppMessage): boolean {
  const a = reply.header as Record<string, unknown>;
  const b = request.header as Record<string, unknown>;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  if (keys.some((k) => !Object.hasOwn(b, k) || JSON.stringify(a[k]) !== JSON.stringify(b[k]))) return false;
  return sameBytes(reply.content, request.content);
}

export function checkReply(request: AppMessage, reply: AppMessage): ReplyVerdict {
  if (isEchoOf(reply, request)) {
    return { kind: "invalid", why: "the reply echoes the request: is this an echo server?" };
  }
  const type = String(reply.header["content-type"]);
  if (!isJson(reply)) {
    if (isJson(request)) {
      return { kind: "invalid", why: `a binary reply (${type}) to a text/json request is not an answer` };
    }
    const s = parseSummary(reply.content);
    if (!s) return { kind: "binary", type, content: reply.content };
    const mine = summarize(request.content);
    if (s.length !== mine.length || s.sha256 !== mine.sha256) {
      return {
        kind: "error-reply",
        message: `server's summary does not match the ${mine.length} bytes sent (sha256 ${mine.sha256})`,
      };
    }
    return { kind: "binary", type, content: reply.content, matchesBytes: mine.length };
  }
  let body: unknown;
  try {
    body = decodeJson(reply);
  } catch (err) {
    return { kind: "invalid", why: `bad reply: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { kind: "invalid", why: "the reply is not a JSON object" };
  }
  const obj = body as Record<string, unknown>;
  // Our server marks errors with "error"; the tutorial's server only says "Error: ...".
  const result = obj.result;
  if (Object.hasOwn(obj, "error") || (typeof result === "string" && result.startsWith("Error:"))) {
    return { kind: "error-reply", message: typeof result === "string" ? result : JSON.stringify(body) };
  }
  if (!Object.hasOwn(obj, "result")) {
    return {
      kind: "invalid",
      why: Object.hasOwn(obj, "action")
        ? `the reply is a request (it has "action" and no "result"): is this an echo server?`
        : `the reply has no "result"`,
    };
  }
  if (result === null) return { kind: "invalid", why: `the reply's "result" is null` };
  return { kind: "result", result };
}
