// The `app` service: the tutorial-compatible application protocol (src/app/).
//
// Unlike the tutorial's server, which closes after one response, a connection carries
// any number of requests, pipelined: every complete message is answered, replies go out
// in request order (a reply computed asynchronously holds back the ones after it), and
// the connection ends once the peer has half-closed and every reply is written.
//
// A message we cannot read gets a JSON error reply (our framing is always intact), then
// ctx.fail: one log line, a protocol-error count, a lingering close.

import { ByteQueue, decodeEofAll, decodeFrames } from "../codec/index.ts";
import { DEFAULT_DICTIONARY, type Dictionary } from "../app/dictionary.ts";
import { appEnvelope, type AppEnvelopeCodec, type AppMessage, type EnvelopeLimits } from "../app/envelope.ts";
import { AppProtocolError } from "../app/errors.ts";
import { type AppReply, errorReply, handleRequest } from "../app/handler.ts";
import { jsonMessage } from "../app/content.ts";
import { Fifo } from "./fifo.ts";
import type { Service, Session, SessionContext } from "./service.ts";
import { writePieces } from "./write-pieces.ts";

/** Turns one request into its reply, now or later (a Promise or any other thenable). */
export type RequestHandler = (request: AppMessage, ctx: SessionContext) => AppReply | PromiseLike<AppReply>;

/** Any object with a `then` method is an asynchronous reply, not only a native Promise. */
function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

/**
 * `maxContent` defaults to the server's `maxFrame` (`SessionContext.options`), `maxHeader`
 * to 64 KiB; both are checked when the service is created (RangeError naming the limit).
 */
export interface AppServiceOptions extends EnvelopeLimits {
  /** The `search` action's dictionary (default: a small built-in one). */
  dictionary?: Dictionary;
  /** Replaces the standard handler (tests use it to delay replies). */
  handler?: RequestHandler;
}

/** Replies are not limited by --max-frame (an echoed value is a little larger than its request). */
const replyEncoder = appEnvelope({ maxContent: Number.MAX_SAFE_INTEGER });

/** What the peer gets when its request could not be answered (the cause is only logged). */
const INTERNAL_ERROR: AppMessage = jsonMessage({ result: "Error: internal server error.", error: "internal" });

/** A reply slot: filled when the reply is ready, written when every earlier one is. */
interface Slot {
  reply?: AppReply;
}

class AppSession implements Session {
  readonly #queue = new ByteQueue();
  readonly #codec: AppEnvelopeCodec;
  readonly #pending = new Fifo<Slot>();
  /** No more input is decoded: the peer half-closed, or a fatal reply is on its way. */
  #stopped = false;
  #peerEnded = false;
  #done = false;
  #messages = 0;

  constructor(private readonly ctx: SessionContext, private readonly handler: RequestHandler, limits: EnvelopeLimits) {
    this.#codec = appEnvelope(limits);
  }

  data(chunk: Uint8Array): void {
    if (this.#stopped) return;
    this.#queue.push(chunk);
    this.#decode(() => decodeFrames(this.#codec, this.#queue));
  }

  end(): void {
    this.#peerEnded = true;
    if (!this.#stopped) this.#decode(() => decodeEofAll(this.#codec, this.#queue));
    this.#stopped = true;
    this.#flush();
  }

  /** A partial message, or replies still being computed: the frame deadline runs, drain waits. */
  midFrame(): boolean {
    if (this.#done) return false;
    return this.#pending.length > 0 || (!this.#stopped && (this.#queue.length > 0 || this.#codec.partial));
  }

  framesDone(): number {
    return this.#messages;
  }

  close(): void {
    this.#done = true;
    this.#stopped = true;
    this.#pending.clear();
    this.#queue.clear();
  }

  #decode(messages: () => Iterable<AppMessage>): void {
    try {
      for (const msg of messages()) {
        this.#messages++;
        this.#enqueue(msg);
        if (this.#stopped) break; // a fatal reply: nothing after it is answered
      }
    } catch (err) {
      if (!(err instanceof AppProtocolError)) throw err;
      this.#pending.push({ reply: errorReply(err) });
      this.#stopped = true;
    }
    if (this.#stopped) this.#queue.clear();
    this.#flush();
  }

  #enqueue(msg: AppMessage): void {
    const slot: Slot = {};
    this.#pending.push(slot);
    let result: AppReply | PromiseLike<AppReply>;
    try {
      result = this.handler(msg, this.ctx);
    } catch (err) {
      result = this.#internalError(err);
    }
    if (isThenable(result)) {
      // Promise.resolve adopts any thenable (and copes with one that misbehaves); the
      // last catch makes sure nothing from here on is ever an unhandled rejection.
      Promise.resolve(result).then(
        (reply) => this.#fill(slot, reply),
        (err) => this.#fill(slot, this.#internalError(err)),
      ).catch((err) => this.#broken(err));
    } else {
      slot.reply = this.#checked(result);
      if (slot.reply.fatal !== undefined) this.#stopped = true;
    }
  }

  #fill(slot: Slot, reply: AppReply): void {
    if (this.#done) return;
    slot.reply = this.#checked(reply);
    this.#flush();
  }

  /** A handler (typed loosely by a JavaScript caller) may hand back nothing at all. */
  #checked(reply: AppReply | undefined | null): AppReply {
    if (typeof reply === "object" && reply !== null) return reply;
    return this.#internalError(new Error(`the handler returned ${String(reply)} instead of a reply`));
  }

  #internalError(err: unknown): AppReply {
    const message = err instanceof Error ? err.message : String(err);
    this.ctx.log.error("app request handler failed", { conn: this.ctx.id, error: message });
    return { message: INTERNAL_ERROR, fatal: `internal error: ${message}` };
  }

  /** Something failed after the reply was settled (a bug): fail this connection only. */
  #broken(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.ctx.log.error("app session failed", { conn: this.ctx.id, error: message });
    if (this.#done) return;
    this.#done = true;
    this.#pending.clear();
    this.ctx.fail(`internal error: ${message}`);
  }

  /**
   * The wire form of one reply, or (when the encoder refuses it: content-length wrong,
   * header too large, a header value JSON cannot serialise) the internal-error reply
   * marked fatal, so that only this connection fails, with the reason logged.
   */
  #encode(reply: AppReply): { pieces: Uint8Array[]; fatal?: string } {
    const pieces: Uint8Array[] = [];
    try {
      replyEncoder.encode(reply.message, (b) => void pieces.push(b));
      return { pieces, fatal: reply.fatal };
    } catch (err) {
      const message = `reply could not be encoded: ${err instanceof Error ? err.message : String(err)}`;
      this.ctx.log.error("app reply could not be encoded", { conn: this.ctx.id, error: message });
      const fallback: Uint8Array[] = [];
      replyEncoder.encode(INTERNAL_ERROR, (b) => void fallback.push(b));
      return { pieces: fallback, fatal: message };
    }
  }

  /** Writes every ready reply at the head of the line, in order. */
  #flush(): void {
    if (this.#done) return;
    const pieces: Uint8Array[] = [];
    let fatal: string | undefined;
    while (this.#pending.peek()?.reply) {
      const encoded = this.#encode(this.#pending.shift()!.reply!);
      pieces.push(...encoded.pieces);
      if (encoded.fatal !== undefined) {
        fatal = encoded.fatal;
        break;
      }
    }
    writePieces((b) => this.ctx.write(b), pieces);
    if (fatal !== undefined) {
      this.#done = true;
      this.#pending.clear();
      this.ctx.fail(fatal);
    } else if (this.#peerEnded && this.#pending.length === 0) {
      this.#done = true;
      this.ctx.end();
    }
  }
}

export function appService(options: AppServiceOptions = {}): Service {
  const dictionary = options.dictionary ?? DEFAULT_DICTIONARY;
  const handler: RequestHandler = options.handler ?? ((req) => handleRequest(req, dictionary));
  const { maxHeader, maxContent } = options;
  appEnvelope({ maxHeader, maxContent }); // bad limits fail here, at start-up, not per connection
  return {
    name: "app",
    open: (ctx) => new AppSession(ctx, handler, { maxHeader, maxContent: maxContent ?? ctx.options.maxFrame }),
  };
}
