// The `app` service: the tutorial-compatible application protocol (src/app/), built on
// the framed-service helper (framed.ts).
//
// Unlike the tutorial's server, which closes after one response, a connection carries
// any number of requests, pipelined: every complete message is answered, replies go out
// in request order (a reply computed asynchronously holds back the ones after it), and
// the connection ends once the peer has half-closed and every reply is written.
// At most maxInFlight requests are unanswered at a time: at the bound the session stops
// decoding and pauses reading (ctx.pause) until replies go out, so a client pipelining to
// a slow handler cannot make the server hold an unbounded backlog.
//
// A message we cannot read gets a JSON error reply (our framing is always intact), then
// ctx.fail: one log line, a protocol-error count, a lingering close. A handler that fails,
// or a reply that cannot be encoded, gets the internal-error reply, then the same close.

import { checkCount } from "../codec/limits.ts";
import { DEFAULT_DICTIONARY, type Dictionary } from "../app/dictionary.ts";
import { appEnvelope, type AppMessage, type EnvelopeLimits } from "../app/envelope.ts";
import { AppProtocolError } from "../app/errors.ts";
import { type AppReply, errorReply, handleRequest } from "../app/handler.ts";
import { jsonMessage } from "../app/content.ts";
import { framedService } from "./framed.ts";
import type { Service, SessionContext } from "../server/service.ts";
import type { AppRequestRecord } from "../server/metrics.ts";

/** Turns one request into its reply, now or later (a Promise or any other thenable). */
export type RequestHandler = (request: AppMessage, ctx: SessionContext) => AppReply | PromiseLike<AppReply>;

/**
 * `maxContent` defaults to the server's `maxFrame` (`SessionContext.options`), `maxHeader`
 * to 64 KiB; both are checked when the service is created (RangeError naming the limit).
 */
export interface AppServiceOptions extends EnvelopeLimits {
  /** The `search` action's dictionary (default: a small built-in one). */
  dictionary?: Dictionary;
  /** Replaces the standard handler (tests use it to delay replies). */
  handler?: RequestHandler;
  /** Requests in flight per connection before reading pauses (default: the server's `maxInFlight`, 64). */
  maxInFlight?: number;
  /** Told of every request answered (the admin endpoint's metrics: ServerMetrics.appRequest). */
  observe?: (r: AppRequestRecord) => void;
}

/** Replies are not limited by --max-frame (an echoed value is a little larger than its request). */
const replyEncoder = appEnvelope({ maxContent: Number.MAX_SAFE_INTEGER });

/** What the peer gets when its request could not be answered (the cause is only logged). */
const INTERNAL_ERROR: AppReply = {
  message: jsonMessage({ result: "Error: internal server error.", error: "internal" }),
};

export function appService(options: AppServiceOptions = {}): Service {
  const dictionary = options.dictionary ?? DEFAULT_DICTIONARY;
  const base: RequestHandler = options.handler ?? ((req) => handleRequest(req, dictionary));
  const handler = options.observe ? observed(base, options.observe) : base;
  const { maxHeader, maxContent, maxInFlight } = options;
  appEnvelope({ maxHeader, maxContent }); // bad limits fail here, at start-up, not per connection
  if (maxInFlight !== undefined) checkCount("maxInFlight", maxInFlight, 1);
  return framedService<AppMessage, AppReply>({
    name: "app",
    decoder: (ctx) => appEnvelope({ maxHeader, maxContent: maxContent ?? ctx.options.maxFrame }),
    encoder: { encode: (reply, out) => replyEncoder.encode(reply.message, out) },
    handle: handler,
    closeAfter: (reply) => reply?.fatal,
    // Only the app's own errors come with a JSON error reply; any other codec error is a bug.
    onDecodeError: (err) => {
      const reply = err instanceof AppProtocolError ? errorReply(err) : INTERNAL_ERROR;
      options.observe?.({ action: "other", outcome: reply.outcome ?? "internal-error", seconds: 0 });
      return reply;
    },
    onInternalError: () => INTERNAL_ERROR,
    maxInFlight,
  });
}

/** The handler with each request's action, outcome and time reported (sync replies: no promise added). */
function observed(handler: RequestHandler, observe: (r: AppRequestRecord) => void): RequestHandler {
  const report = (reply: AppReply | undefined, started: number) =>
    observe({
      action: reply?.action ?? "other",
      outcome: reply?.outcome ?? "internal-error",
      seconds: (performance.now() - started) / 1000,
    });
  return (request, ctx) => {
    const started = performance.now();
    let result: AppReply | PromiseLike<AppReply>;
    try {
      result = handler(request, ctx);
    } catch (err) {
      report(undefined, started);
      throw err;
    }
    if (typeof (result as PromiseLike<AppReply>).then !== "function") {
      report(result as AppReply, started);
      return result;
    }
    return Promise.resolve(result).then((reply) => {
      report(reply, started);
      return reply;
    }, (err) => {
      report(undefined, started);
      throw err;
    });
  };
}
