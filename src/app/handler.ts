// The app server's answers: one reply per request message.
//
//   text/json {"action": "search", "value": K}  -> {"result": dictionary[K]} or 'No match for "K".'
//   text/json {"action": "echo", "value": V}    -> {"result": V}
//   text/json, any other action                 -> {"result": 'Error: invalid action "x".', "error": "invalid-action"}
//   any other content type (binary)             -> binary "length=N sha256=HEX"
//
// A request whose content cannot be read (bad encoding, not JSON, not an object) gets
// a JSON error reply marked fatal: the server sends it and then closes.

import { formatSummary, summarize } from "./binary-summary.ts";
import { binaryMessage, decodeJson, isJson, jsonMessage, SERVER_BINARY_TYPE } from "./content.ts";
import type { Dictionary } from "./dictionary.ts";
import type { AppMessage } from "./envelope.ts";
import { AppProtocolError } from "./errors.ts";

export interface AppReply {
  message: AppMessage;
  /** Set when the connection must close after this reply: the reason, for the log. */
  fatal?: string;
  /** For the metrics: the action ("search", "echo", "binary", "other") and its outcome. */
  action?: string;
  outcome?: string;
}

/** The JSON error reply for a message we could not read; marked fatal. */
export function errorReply(err: AppProtocolError): AppReply {
  return {
    message: jsonMessage({ result: `Error: ${err.message}.`, error: err.reason }),
    fatal: err.message,
    action: "other",
    outcome: "bad-request",
  };
}

/** Prints a request value the way the tutorial's f-strings would show a string. */
function show(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v ?? null);
}

function answer(request: Record<string, unknown>, dictionary: Dictionary): AppReply {
  const { action, value } = request;
  switch (action) {
    case "search":
      return typeof value === "string" && dictionary.has(value)
        ? { message: jsonMessage({ result: dictionary.get(value) }), action, outcome: "ok" }
        : { message: jsonMessage({ result: `No match for "${show(value)}".` }), action, outcome: "no-match" };
    case "echo":
      return { message: jsonMessage({ result: value ?? null }), action, outcome: "ok" };
    default:
      return {
        message: jsonMessage({ result: `Error: invalid action "${show(action)}".`, error: "invalid-action" }),
        action: "other", // any name a peer sends: not a label value
        outcome: "invalid-action",
      };
  }
}

export function handleRequest(msg: AppMessage, dictionary: Dictionary): AppReply {
  if (!isJson(msg)) {
    return {
      message: binaryMessage(formatSummary(summarize(msg.content)), SERVER_BINARY_TYPE),
      action: "binary",
      outcome: "ok",
    };
  }
  try {
    const request = decodeJson(msg);
    if (typeof request !== "object" || request === null || Array.isArray(request)) {
      throw new AppProtocolError("content-not-json", "request is not a JSON object");
    }
    return answer(request as Record<string, unknown>, dictionary);
  } catch (err) {
    if (err instanceof AppProtocolError) return errorReply(err);
    throw err;
  }
}
