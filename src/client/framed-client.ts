// A framed client over any Transport: send frames (with backpressure), receive frames as
// an async iterator, a silence deadline, half-close. The general form of the app client.
//
//   const client = await FramedClient.connect(transport, addr, { codec: parseFraming("lp:u32") });
//   await client.send(bytes);          // waits for drain only when over the high-water mark
//   client.end();                      // no more frames from us; replies still arrive
//   for await (const frame of client) { ... }   // ends at the server's FIN

import type { TlsClientOptions } from "../tls.ts";
import { ByteQueue, CodecError, decodeEofAll, decodeFrames, type Decoder, type Encoder } from "../codec/index.ts";
import { SilenceError, SilenceTimer } from "../silence.ts";
import type { Addr, Conn, Transport } from "../transport.ts";
import { FrameInbox } from "./frame-inbox.ts";

/** The connection is closed or ended, or the server sent bytes that are not a frame. */
export class FramedClientError extends Error {
  override name = "FramedClientError";
}

export interface FramedClientOptions<In, Out> {
  /** Decodes what the server sends and encodes what we send (one instance per connection). */
  codec: Decoder<In> & Encoder<Out>;
  /** Give up connecting after this many milliseconds (default: the OS's own timeout). */
  connectTimeoutMs?: number;
  /** Speak TLS: connect() resolves once the server's certificate passed (src/tls.ts). */
  tls?: TlsClientOptions;
  /**
   * Silence deadline: nothing sent or received for this long ends the connection with a
   * SilenceError (default 0: none). Time the client itself stops reading because frames
   * are not being consumed does not count.
   */
  waitMs?: number;
  /** Write queue high-water mark in bytes (default 64 KiB): send() waits for drain above it. */
  highWaterMark?: number;
  /** Received frames held for the consumer before reading pauses (default 256). */
  maxBuffered?: number;
  /** The error a frame the codec refuses ends the stream with (default: a FramedClientError "bad frame from the server: ..."). */
  badFrame?: (err: CodecError) => Error;
}

export class FramedClient<In, Out = In> implements AsyncIterable<In> {
  readonly #codec: Decoder<In> & Encoder<Out>;
  readonly #input = new ByteQueue();
  readonly #inbox: FrameInbox<In>;
  readonly #badFrame: (err: CodecError) => Error;
  #conn!: Conn;
  #serverEnded = false;
  #failure: Error | undefined;
  #ended = false;
  #silence: SilenceTimer | undefined;
  #drainWaiters: { resolve(): void; reject(err: Error): void }[] = [];
  /** Resolves when the connection has closed, with its error if it ended abnormally. */
  readonly closed: Promise<Error | undefined>;
  #closedWith!: (err: Error | undefined) => void;

  private constructor(opts: FramedClientOptions<In, Out>) {
    this.#codec = opts.codec;
    this.#badFrame = opts.badFrame ?? ((err) => new FramedClientError(`bad frame from the server: ${err.message}`));
    const maxBuffered = opts.maxBuffered ?? 256;
    if (!Number.isInteger(maxBuffered) || maxBuffered < 1) {
      throw new RangeError(`maxBuffered must be a whole number >= 1, got ${maxBuffered}`);
    }
    this.#inbox = new FrameInbox<In>(maxBuffered, (full) => {
      if (this.#conn.closed) return;
      if (full) this.#conn.pause();
      else this.#conn.resume();
    });
    this.closed = new Promise((resolve) => (this.#closedWith = resolve));
  }

  /** Connects; rejects with a ConnectError when it cannot. */
  static async connect<In, Out = In>(
    transport: Transport,
    addr: Addr,
    opts: FramedClientOptions<In, Out>,
  ): Promise<FramedClient<In, Out>> {
    const waitMs = opts.waitMs ?? 0;
    if (!Number.isFinite(waitMs) || waitMs < 0) throw new RangeError(`waitMs must be >= 0, got ${waitMs}`);
    const client = new FramedClient<In, Out>(opts);
    const conn = await transport.connect({
      addr,
      timeoutMs: opts.connectTimeoutMs,
      highWaterMark: opts.highWaterMark,
      ...(opts.tls ? { tls: opts.tls } : {}),
    }, {
      open: (c) => void (client.#conn = c),
      data: (_c, chunk) => client.#onData(chunk),
      end: () => client.#onEnd(),
      drain: () => client.#onDrain(),
      close: (_c, err) => client.#onClose(err),
    });
    client.#conn = conn;
    if (waitMs > 0 && !conn.closed) {
      client.#silence = new SilenceTimer(waitMs, () => client.#fail(new SilenceError(waitMs)), {
        progress: () => conn.queued,
        busy: () => client.#inbox.full,
      });
    }
    return client;
  }

  /**
   * Encodes and queues `frame` at once, without waiting: false when the write queue is
   * over the high-water mark (send() would wait). Throws the encoder's CodecError (nothing
   * is sent), or a FramedClientError after end()/close() or a failure.
   */
  write(frame: Out): boolean {
    if (this.#failure) throw this.#failure;
    if (this.#ended || this.#conn.closed) throw new FramedClientError("connection is closed");
    const pieces: Uint8Array[] = [];
    this.#codec.encode(frame, (b) => void pieces.push(b));
    this.#silence?.touch();
    let ok = true;
    for (const b of pieces) ok = this.#conn.write(b);
    return ok;
  }

  /**
   * Encodes and sends `frame` at once. Resolves at once while the write queue is below the
   * high-water mark, else once it has drained (or the connection has flushed it and
   * closed cleanly). Rejects when the frame cannot be encoded (a CodecError; nothing is
   * sent), after end()/close(), or when the connection fails.
   */
  send(frame: Out): Promise<void> {
    let ok: boolean;
    try {
      ok = this.write(frame);
    } catch (err) {
      return Promise.reject(err);
    }
    if (ok || this.#conn.closed) return this.#failure ? Promise.reject(this.#failure) : Promise.resolve();
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  /** The server sent its FIN (the stream ended by its choice, not by ours or by a failure). */
  get serverEnded(): boolean {
    return this.#serverEnded;
  }

  /** The next frame, or undefined once the server has ended (or we closed). Throws the failure. */
  receive(): Promise<In | undefined> {
    return this.#inbox.next();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<In> {
    for (;;) {
      const frame = await this.#inbox.next();
      if (frame === undefined && this.#inbox.done) return;
      yield frame as In;
    }
  }

  /** Half-close: no more frames from us (our FIN after what is queued); frames still arrive. */
  end(): void {
    this.#ended = true;
    this.#conn.end();
  }

  /** Closes the connection: "graceful" flushes first, "abort" drops what is queued. */
  close(mode: "graceful" | "abort" = "graceful"): void {
    this.#ended = true;
    this.#conn.close(mode);
  }

  #onData(chunk: Uint8Array): void {
    this.#silence?.touch();
    if (this.#failure) return;
    this.#input.push(chunk);
    this.#decode(() => decodeFrames(this.#codec, this.#input));
  }

  /** The server is done: the frames left at EOF, then the end of the stream; our side ends too. */
  #onEnd(): void {
    this.#serverEnded = true;
    this.#decode(() => decodeEofAll(this.#codec, this.#input));
    if (this.#failure) return;
    this.#inbox.finish();
    this.end();
  }

  #onDrain(): void {
    this.#silence?.touch();
    for (const w of this.#drainWaiters.splice(0)) w.resolve();
  }

  #onClose(err: Error | undefined): void {
    this.#silence?.stop();
    const failure = (this.#failure ??= err); // a write after the close reports why it closed
    for (const w of this.#drainWaiters.splice(0)) failure ? w.reject(failure) : w.resolve();
    if (failure) this.#inbox.fail(failure);
    else this.#inbox.finish();
    this.#closedWith(failure);
  }

  #decode(frames: () => Iterable<In>): void {
    if (this.#failure) return;
    try {
      for (const frame of frames()) this.#inbox.push(frame);
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      this.#fail(this.#badFrame(err));
    }
  }

  /** Ends the connection with `err`: the frames already received are still read first. */
  #fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#input.clear();
    this.#inbox.fail(err);
    this.#conn.close("abort");
  }
}
