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
import type { Service, Session, SessionContext } from "./service.ts";
import { writePieces } from "./write-pieces.ts";

/** Turns one request into its reply, now or later. */
export type RequestHandler = (request: AppMessage, ctx: SessionContext) => AppReply | Promise<AppReply>;

export interface AppServiceOptions extends EnvelopeLimits {
  dictionary?: Dictionary;
  /** Replaces the standard handler (tests use it to delay replies). */
  handler?: RequestHandler;
}

/** Replies are not limited by --max-frame (an echoed value is a little larger than its request). */
const replyEncoder = appEnvelope({ maxContent: Number.MAX_SAFE_INTEGER });

/** A reply slot: filled when the reply is ready, written when every earlier one is. */
interface Slot {
  reply?: AppReply;
}

class AppSession implements Session {
  readonly #queue = new ByteQueue();
  readonly #codec: AppEnvelopeCodec;
  readonly #pending: Slot[] = [];
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
    this.#pending.length = 0;
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
    let result: AppReply | Promise<AppReply>;
    try {
      result = this.handler(msg, this.ctx);
    } catch (err) {
      result = this.#internalError(err);
    }
    if (result instanceof Promise) {
      result.then(
        (reply) => this.#fill(slot, reply),
        (err) => this.#fill(slot, this.#internalError(err)),
      );
    } else {
      slot.reply = result;
      if (result.fatal) this.#stopped = true;
    }
  }

  #fill(slot: Slot, reply: AppReply): void {
    if (this.#done) return;
    slot.reply = reply;
    this.#flush();
  }

  #internalError(err: unknown): AppReply {
    const message = err instanceof Error ? err.message : String(err);
    this.ctx.log.error("app request handler failed", { conn: this.ctx.id, error: message });
    return {
      message: jsonMessage({ result: "Error: internal server error.", error: "internal" }),
      fatal: `internal error: ${message}`,
    };
  }

  /** Writes every ready reply at the head of the line, in order. */
  #flush(): void {
    if (this.#done) return;
    const pieces: Uint8Array[] = [];
    const out = (b: Uint8Array) => void pieces.push(b);
    let fatal: string | undefined;
    while (this.#pending.length > 0 && this.#pending[0]!.reply) {
      const reply = this.#pending.shift()!.reply!;
      replyEncoder.encode(reply.message, out);
      if (reply.fatal !== undefined) {
        fatal = reply.fatal;
        break;
      }
    }
    writePieces((b) => this.ctx.write(b), pieces);
    if (fatal !== undefined) {
      this.#done = true;
      this.#pending.length = 0;
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
  const limits: EnvelopeLimits = { maxHeader: options.maxHeader, maxContent: options.maxContent };
  return {
    name: "app",
    open: (ctx) => new AppSession(ctx, handler, limits),
  };
}
