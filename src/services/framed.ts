// The framed-service helper (in the spirit of tokio's `Framed`): give it a decoder, an
// encoder and a frame handler (sync or async) and it runs the session: decoding input
// split anywhere, codec errors (an optional reply, then a logged close), the frame
// deadline bookkeeping (midFrame/framesDone), the in-flight bound with inbound
// backpressure, replies in frame order, and small replies joined into few writes.
//
// framed echo and the app protocol are built on it.

import { ByteQueue, CodecError, type Decoder, type Encoder, UnexpectedEof } from "../codec/index.ts";
import { checkCount } from "../codec/limits.ts";
import { Fifo } from "./fifo.ts";
import type { Service, Session, SessionContext } from "../server/service.ts";
import { writePieces } from "./write-pieces.ts";

/** How `framedService` runs each connection: a codec and a frame handler, with optional hooks. */
export interface FramedServiceOptions<In, Out> {
  /** The service name (logs). */
  name: string;
  /**
   * A decoder for one connection (decoders keep state). Called when the connection opens,
   * so limits can come from `ctx.options` (e.g. `maxFrame`). A decoder with a `partial`
   * property (true while a frame is half-read with nothing queued) reports it to the frame deadline.
   */
  decoder(ctx: SessionContext): Decoder<In>;
  /**
   * Writes a reply's wire form, shared by all connections (it must keep no state).
   * Default: the connection's decoder, which must then be a Codec (decode and encode).
   */
  encoder?: Encoder<Out>;
  /** Turns one frame into its reply, now or later (a Promise or any other thenable). */
  handle(frame: In, ctx: SessionContext): Out | PromiseLike<Out>;
  /** A reason to close the connection after writing this reply (it is logged and counted), or undefined. */
  closeAfter?(reply: Out): string | undefined;
  /**
   * The reply (if any) for input the decoder rejected, written after the replies to the
   * frames before it; then the connection fails with the error's message. Default: none.
   */
  onDecodeError?(err: CodecError, ctx: SessionContext): Out | undefined;
  /**
   * The reply (if any) when the handler threw or its promise rejected, or a reply could
   * not be encoded; then the connection fails. The cause is logged. Default: none.
   */
  onInternalError?(err: unknown, ctx: SessionContext): Out | undefined;
  /**
   * Frames in flight per connection (received, reply not yet written) before reading
   * pauses. Default: the server's `maxInFlight` option (64).
   */
  maxInFlight?: number;
  /** Called once when the connection is gone, whatever the reason (e.g. to forget its subscriptions). */
  onClose?(ctx: SessionContext): void;
}

/** A service that runs `options` for each connection. */
export function framedService<In, Out>(options: FramedServiceOptions<In, Out>): Service {
  if (options.maxInFlight !== undefined) checkCount("maxInFlight", options.maxInFlight, 1);
  return {
    name: options.name,
    open: (ctx) => new FramedSession(ctx, options),
  };
}

/** Any object with a `then` method is an asynchronous reply, not only a native Promise. */
function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

const messageOf = (err: unknown) => err instanceof Error ? err.message : String(err);

/** A reply slot: ready once its reply is known; written once every earlier slot is. */
interface Slot<Out> {
  ready: boolean;
  reply?: Out;
  /** Close after this slot: the reason. */
  fatal?: string;
}

class FramedSession<In, Out> implements Session {
  readonly #queue: ByteQueue;
  readonly #decoder: Decoder<In>;
  readonly #encoder: Encoder<Out>;
  readonly #pending = new Fifo<Slot<Out>>();
  readonly #maxInFlight: number;
  /** No more input is decoded: all of it was, after the peer's half-close, or a fatal reply is due. */
  #stopped = false;
  #peerEnded = false;
  /** The decoder has returned its last frame at EOF. */
  #eofDone = false;
  #done = false;
  #frames = 0;
  /** Replies taken for writing (metrics: frames sent). */
  #sent = 0;
  /** We asked the core to stop reading (at the in-flight bound). */
  #paused = false;
  #pumping = false;
  /** The replies of the current pass, reused from pass to pass (no array per chunk). */
  #pieces: Uint8Array[] = [];
  /** Why the pass stops: set by #take when a reply closes the connection. */
  #fatal: string | undefined;
  /** The encoder's `out`, bound once. */
  readonly #out = (b: Uint8Array): void => void this.#pieces.push(b);

  constructor(private readonly ctx: SessionContext, private readonly o: FramedServiceOptions<In, Out>) {
    this.#queue = new ByteQueue({ copyBelow: ctx.copyFramesBelow });
    this.#decoder = o.decoder(ctx);
    const encoder = o.encoder ?? (this.#decoder as Partial<Encoder<Out>>);
    if (typeof encoder.encode !== "function") {
      throw new TypeError(`${o.name}: no encoder given and the decoder cannot encode`);
    }
    this.#encoder = encoder as Encoder<Out>;
    this.#maxInFlight = o.maxInFlight ?? ctx.options.maxInFlight;
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

  /** A partial frame, or replies not yet written: the frame deadline runs, a drain waits. */
  midFrame(): boolean {
    if (this.#done) return false;
    if (this.#pending.length > 0) return true;
    if (this.#stopped) return false;
    return this.#queue.length > 0 || (this.#decoder as { partial?: boolean }).partial === true;
  }

  framesDone(): number {
    return this.#frames;
  }

  framesSent(): number {
    return this.#sent;
  }

  close(): void {
    this.#done = true;
    this.#stopped = true;
    this.#pending.clear();
    this.#queue.clear();
    this.o.onClose?.(this.ctx);
  }

  /**
   * Decodes frames while fewer than maxInFlight are unanswered, writes the replies that
   * are ready, and repeats while either makes progress; then holds reading paused exactly
   * while the bound is reached (input that arrived meanwhile waits, undecoded).
   */
  #pump(): void {
    if (this.#pumping || this.#done) return; // re-entered from a write: the running loop sees the change
    this.#pumping = true;
    // Replies of the whole pass are written together: the frames of one read cost one write.
    const pieces = this.#pieces;
    this.#fatal = undefined;
    try {
      for (;;) {
        const decoded = this.#decodeSome();
        const slots = this.#take();
        this.#sent += slots;
        if (this.#fatal !== undefined || (decoded === 0 && slots === 0)) break;
      }
    } finally {
      this.#pumping = false;
    }
    const fatal = this.#fatal;
    // Emptied before writing: a write may re-enter #pump, which fills the array anew.
    if (pieces.length === 1) {
      const only = pieces[0]!; // the common case: one reply, no batch
      pieces.length = 0;
      this.ctx.write(only);
    } else if (pieces.length > 1) {
      const batch = pieces.slice();
      pieces.length = 0;
      writePieces((b) => this.ctx.write(b), batch);
    }
    if (this.#done) return; // the connection closed under a write
    if (fatal !== undefined) {
      this.#done = true;
      this.#pending.clear();
      this.ctx.fail(fatal);
      return;
    }
    if (this.#peerEnded && this.#stopped && this.#pending.length === 0) {
      this.#done = true;
      this.ctx.end();
      return;
    }
    const atBound = !this.#stopped && this.#pending.length >= this.#maxInFlight;
    if (atBound !== this.#paused) {
      this.#paused = atBound;
      if (atBound) this.ctx.pause();
      else this.ctx.resume();
    }
  }

  /** The next frame, or undefined for "need more" (or, at EOF, "no more"). */
  #next(): In | undefined {
    if (!this.#peerEnded) return this.#decoder.decode(this.#queue);
    if (this.#eofDone) return undefined;
    const before = this.#queue.length;
    if (!this.#decoder.decodeEof) {
      const frame = this.#decoder.decode(this.#queue);
      if (frame === undefined && this.#queue.length > 0) throw new UnexpectedEof(this.#queue.length);
      if (frame === undefined) this.#eofDone = true;
      return frame;
    }
    const frame = this.#decoder.decodeEof(this.#queue);
    // A frame from an empty queue (read-to-EOF's empty message) is necessarily the last.
    if (frame === undefined || before === 0) this.#eofDone = true;
    return frame;
  }

  /** Decodes and dispatches frames up to the in-flight bound; returns how many slots it added. */
  #decodeSome(): number {
    let n = 0;
    try {
      while (!this.#stopped && this.#pending.length < this.#maxInFlight) {
        const frame = this.#next();
        if (frame === undefined) {
          if (this.#peerEnded && this.#eofDone) this.#stopped = true; // all in: answer, then end
          break;
        }
        n++;
        this.#frames++;
        this.#dispatch(frame); // a fatal reply sets #stopped: nothing after it is answered
      }
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      this.#pending.push({ ready: true, reply: this.o.onDecodeError?.(err, this.ctx), fatal: err.message });
      this.#stopped = true;
      n++;
    }
    if (this.#stopped) this.#queue.clear();
    return n;
  }

  #dispatch(frame: In): void {
    const slot: Slot<Out> = { ready: false };
    this.#pending.push(slot);
    let result: Out | PromiseLike<Out>;
    try {
      result = this.o.handle(frame, this.ctx);
    } catch (err) {
      this.#internalError(slot, err);
      return;
    }
    if (isThenable(result)) {
      // Promise.resolve adopts any thenable; the last catch makes sure nothing from here
      // on can become an unhandled rejection.
      Promise.resolve(result).then(
        (reply) => this.#settle(slot, reply),
        (err) => {
          if (this.#done) return;
          this.#internalError(slot, err);
          this.#pump();
        },
      ).catch((err) => this.#broken(err));
    } else {
      this.#fill(slot, result);
    }
  }

  #settle(slot: Slot<Out>, reply: Out): void {
    if (this.#done) return;
    this.#fill(slot, reply);
    this.#pump();
  }

  #fill(slot: Slot<Out>, reply: Out): void {
    slot.ready = true;
    slot.reply = reply;
    slot.fatal = this.o.closeAfter?.(reply);
    if (slot.fatal !== undefined) this.#stopped = true;
  }

  /** The handler failed: log it; the slot gets the fallback reply and closes the connection. */
  #internalError(slot: Slot<Out>, err: unknown): void {
    const message = messageOf(err);
    this.ctx.log.error(`${this.o.name} request handler failed`, { conn: this.ctx.id, error: message });
    slot.ready = true;
    slot.reply = this.o.onInternalError?.(err, this.ctx);
    slot.fatal = `internal error: ${message}`;
    this.#stopped = true;
  }

  /** Something failed after a reply settled (a bug): fail this connection only. */
  #broken(err: unknown): void {
    const message = messageOf(err);
    this.ctx.log.error(`${this.o.name} session failed`, { conn: this.ctx.id, error: message });
    if (this.#done) return;
    this.#done = true;
    this.#pending.clear();
    this.ctx.fail(`internal error: ${message}`);
  }

  /**
   * The wire form of one slot's reply. A reply the encoder refuses is logged and replaced
   * by the internal-error reply (if any), and the connection fails: only this connection.
   */
  #encode(slot: Slot<Out>): string | undefined {
    if (slot.reply === undefined && slot.fatal !== undefined) return slot.fatal; // nothing to send
    const pieces = this.#pieces;
    const mark = pieces.length;
    try {
      this.#encoder.encode(slot.reply as Out, this.#out);
      return slot.fatal;
    } catch (err) {
      pieces.length = mark; // what the encoder gave before it threw is not sent
      const message = `reply could not be encoded: ${messageOf(err)}`;
      this.ctx.log.error(`${this.o.name} reply could not be encoded`, { conn: this.ctx.id, error: message });
      const fallback = this.o.onInternalError?.(err, this.ctx);
      if (fallback !== undefined) this.#encoder.encode(fallback, this.#out);
      return message;
    }
  }

  /**
   * Encodes every ready reply at the head of the line, in order, into the pass's pieces;
   * stops after one that closes the connection (its reason goes to #fatal). Returns how
   * many slots it took.
   */
  #take(): number {
    let slots = 0;
    while (this.#pending.peek()?.ready) {
      slots++;
      const fatal = this.#encode(this.#pending.shift()!);
      if (fatal !== undefined) {
        this.#fatal = fatal;
        return slots;
      }
    }
    return slots;
  }
}
