// The `app` service: the tutorial-compatible application protocol (src/app/).
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
// ctx.fail: one log line, a protocol-error count, a lingering close.

import { ByteQueue } from "../codec/index.ts";
import { checkCount } from "../codec/limits.ts";
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
  /** Requests in flight per connection before reading pauses (default: the server's `maxInFlight`, 64). */
  maxInFlight?: number;
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
  readonly #maxInFlight: number;
  /** No more input is decoded: all of it was after the peer's half-close, or a fatal reply is on its way. */
  #stopped = false;
  #peerEnded = false;
  #done = false;
  #messages = 0;
  /** We asked the core to stop reading (at the in-flight bound). */
  #paused = false;
  #pumping = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly handler: RequestHandler,
    limits: EnvelopeLimits,
    maxInFlight: number,
  ) {
    this.#codec = appEnvelope(limits);
    this.#maxInFlight = maxInFlight;
  }

  data(chunk: Uint8Array): void {
    if (this.#stopped) return;
    this.#queue.push(chunk);
    this.#pump();
  }

  end(): void {
    this.#peerEnded = true;
    this.#pump();
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

  /**
   * Decodes requests while fewer than maxInFlight are unanswered, writes the replies that
   * are ready, and repeats while either makes progress; then holds reading paused exactly
   * while the bound is reached (input that arrived meanwhile waits, undecoded, in the queue).
   */
  #pump(): void {
    if (this.#pumping) return; // a reply settling inside a write: the running loop picks it up
    this.#pumping = true;
    try {
      for (;;) {
        const decoded = this.#decodeSome();
        const written = this.#flush();
        if (this.#done) return;
        if (decoded === 0 && written === 0) break;
      }
    } finally {
      this.#pumping = false;
    }
    const atBound = !this.#stopped && this.#pending.length >= this.#maxInFlight;
    if (atBound !== this.#paused) {
      this.#paused = atBound;
      if (atBound) this.ctx.pause();
      else this.ctx.resume();
    }
  }

  /** Decodes and dispatches requests up to the in-flight bound; returns how many. */
  #decodeSome(): number {
    let n = 0;
    try {
      while (!this.#stopped && this.#pending.length < this.#maxInFlight) {
        // After the half-close a partial message left over is an error (decodeEof throws).
        const msg = this.#peerEnded ? this.#codec.decodeEof(this.#queue) : this.#codec.decode(this.#queue);
        if (msg === undefined) {
          if (this.#peerEnded) this.#stopped = true; // every message in; answer, then end
          break;
        }
        n++;
        this.#messages++;
        this.#enqueue(msg); // a fatal reply sets #stopped: nothing after it is answered
      }
    } catch (err) {
      if (!(err instanceof AppProtocolError)) throw err;
      this.#pending.push({ reply: errorReply(err) });
      this.#stopped = true;
      n++;
    }
    if (this.#stopped) this.#queue.clear();
    return n;
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
    this.#pump();
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

  /** Writes every ready reply at the head of the line, in order; returns how many. */
  #flush(): number {
    if (this.#done) return 0;
    const pieces: Uint8Array[] = [];
    let fatal: string | undefined;
    let n = 0;
    while (this.#pending.peek()?.reply) {
      const encoded = this.#encode(this.#pending.shift()!.reply!);
      n++;
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
    } else if (this.#peerEnded && this.#stopped && this.#pending.length === 0) {
      this.#done = true;
      this.ctx.end();
    }
    return n;
  }
}

export function appService(options: AppServiceOptions = {}): Service {
  const dictionary = options.dictionary ?? DEFAULT_DICTIONARY;
  const handler: RequestHandler = options.handler ?? ((req) => handleRequest(req, dictionary));
  const { maxHeader, maxContent, maxInFlight } = options;
  appEnvelope({ maxHeader, maxContent }); // bad limits fail here, at start-up, not per connection
  if (maxInFlight !== undefined) checkCount("maxInFlight", maxInFlight, 1);
  return {
    name: "app",
    open: (ctx) =>
      new AppSession(
        ctx,
        handler,
        { maxHeader, maxContent: maxContent ?? ctx.options.maxFrame },
        maxInFlight ?? ctx.options.maxInFlight,
      ),
  };
}
