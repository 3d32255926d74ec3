// An app-protocol client over any Transport. Requests may be pipelined: each call to
// request() writes at once, and replies are matched to requests in order.

import { ByteQueue, CodecError, decodeEofAll, decodeFrames } from "../codec/index.ts";
import { SilenceError, SilenceTimer } from "../silence.ts";
import type { Addr, Conn, Transport } from "../transport.ts";
import { appEnvelope, type AppEnvelopeCodec, type AppMessage, type EnvelopeLimits } from "./envelope.ts";

/** The connection failed, closed early, or the server sent something that is not a reply. */
export class AppClientError extends Error {
  override name = "AppClientError";
}

interface Waiter {
  resolve(msg: AppMessage): void;
  reject(err: Error): void;
}

/** Requests may carry any size; replies are limited (default 16 MiB content). */
export const CLIENT_LIMITS: EnvelopeLimits = { maxContent: 16 * 1024 * 1024 };
const requestEncoder = appEnvelope({ maxContent: Number.MAX_SAFE_INTEGER });

export class AppClient {
  readonly #queue = new ByteQueue();
  readonly #codec: AppEnvelopeCodec;
  readonly #waiting: Waiter[] = [];
  #conn: Conn | undefined;
  #failure: Error | undefined;
  #serverEnded = false;
  #silence: SilenceTimer | undefined;
  /** Resolves when the connection is closed, with its error if it ended abnormally. */
  readonly closed: Promise<Error | undefined>;
  #closedWith!: (err: Error | undefined) => void;

  private constructor(limits: EnvelopeLimits) {
    this.#codec = appEnvelope(limits);
    this.closed = new Promise((resolve) => (this.#closedWith = resolve));
  }

  static async connect(
    transport: Transport,
    addr: Addr,
    opts: { timeoutMs?: number; limits?: EnvelopeLimits; waitMs?: number } = {},
  ): Promise<AppClient> {
    const client = new AppClient(opts.limits ?? CLIENT_LIMITS);
    const conn = await transport.connect({ addr, timeoutMs: opts.timeoutMs }, {
      open: (c) => void (client.#conn = c),
      data: (_c, chunk) => client.#onData(chunk),
      end: () => client.#onEnd(),
      close: (_c, err) => client.#onClose(err),
    });
    client.#conn = conn;
    // waitMs: nothing sent or received for this long ends the connection (opt-in: an idle
    // pipelining client would be cut too), failing the requests still waiting.
    if (opts.waitMs && !conn.closed) {
      client.#silence = new SilenceTimer(
        opts.waitMs,
        () => client.#fail(new SilenceError(opts.waitMs!)),
        { progress: () => conn.queued },
      );
    }
    return client;
  }

  /** Sends `msg` at once (the transport queues it); resolves with its reply. */
  request(msg: AppMessage): Promise<AppMessage> {
    const conn = this.#conn!;
    if (this.#failure) return Promise.reject(this.#failure);
    if (conn.closed || this.#serverEnded) return Promise.reject(new AppClientError("connection is closed"));
    // Encode first: a message the encoder rejects must leave no waiter behind, or the
    // waiter's later rejection (at close) would go unhandled.
    const pieces: Uint8Array[] = [];
    try {
      requestEncoder.encode(msg, (b) => void pieces.push(b));
    } catch (err) {
      return Promise.reject(err);
    }
    const reply = new Promise<AppMessage>((resolve, reject) => this.#waiting.push({ resolve, reject }));
    this.#silence?.touch();
    for (const b of pieces) conn.write(b);
    return reply;
  }

  /** Half-close: no more requests; replies still arrive. */
  end(): void {
    this.#conn?.end();
  }

  close(mode: "graceful" | "abort" = "graceful"): void {
    this.#conn?.close(mode);
  }

  /** Requests sent whose replies have not arrived yet. */
  get outstanding(): number {
    return this.#waiting.length;
  }

  #onData(chunk: Uint8Array): void {
    this.#silence?.touch();
    if (this.#failure) return;
    this.#queue.push(chunk);
    this.#deliver(() => decodeFrames(this.#codec, this.#queue));
  }

  #onEnd(): void {
    this.#serverEnded = true;
    this.#deliver(() => decodeEofAll(this.#codec, this.#queue));
    const n = this.#waiting.length;
    this.#rejectAll(new AppClientError(`server closed the connection with ${n} repl${n === 1 ? "y" : "ies"} missing`));
    this.#conn?.end();
  }

  #onClose(err: Error | undefined): void {
    this.#silence?.stop();
    this.#rejectAll(this.#failure ?? err ?? new AppClientError("connection closed before the reply arrived"));
    this.#closedWith(this.#failure instanceof SilenceError ? this.#failure : err);
  }

  #deliver(messages: () => Iterable<AppMessage>): void {
    if (this.#failure) return;
    try {
      for (const msg of messages()) {
        const w = this.#waiting.shift();
        if (!w) throw new AppClientError("server sent a reply nobody asked for");
        w.resolve(msg);
      }
    } catch (err) {
      if (!(err instanceof CodecError || err instanceof AppClientError)) throw err;
      this.#fail(err instanceof AppClientError ? err : new AppClientError(`bad reply: ${err.message}`));
    }
  }

  /** Fail every waiting request with `err` and reset the connection. */
  #fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#rejectAll(err);
    this.#queue.clear();
    this.#conn?.close("abort");
  }

  #rejectAll(err: Error): void {
    for (const w of this.#waiting.splice(0)) w.reject(err);
  }
}
