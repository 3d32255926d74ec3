// An app-protocol client over any Transport, built on FramedClient. Requests may be
// pipelined: each call to request() writes at once, and replies are matched to requests
// in order.

import type { TlsClientOptions } from "../tls.ts";
import type { CodecError } from "../codec/index.ts";
import { FramedClient } from "../client/framed-client.ts";
import type { Addr, Transport } from "../transport.ts";
import { appEnvelope, type AppMessage, type EnvelopeLimits } from "./envelope.ts";

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
  readonly #framed: FramedClient<AppMessage>;
  /** Requests waiting for their replies, oldest first (a head index: no O(n) shift). */
  #waiting: Waiter[] = [];
  #head = 0;
  /** Resolves when the connection is closed, with its error if it ended abnormally. */
  readonly closed: Promise<Error | undefined>;

  private constructor(framed: FramedClient<AppMessage>) {
    this.#framed = framed;
    this.closed = framed.closed;
    void this.#readReplies();
  }

  static async connect(
    transport: Transport,
    addr: Addr,
    opts: { timeoutMs?: number; limits?: EnvelopeLimits; waitMs?: number; tls?: TlsClientOptions } = {},
  ): Promise<AppClient> {
    const replies = appEnvelope(opts.limits ?? CLIENT_LIMITS);
    const framed = await FramedClient.connect<AppMessage>(transport, addr, {
      // Replies are decoded within the limits; requests may carry any size.
      codec: {
        decode: (q) => replies.decode(q),
        decodeEof: replies.decodeEof && ((q) => replies.decodeEof!(q)),
        encode: (msg, out) => requestEncoder.encode(msg, out),
      },
      connectTimeoutMs: opts.timeoutMs,
      ...(opts.tls ? { tls: opts.tls } : {}),
      // waitMs: nothing sent or received for this long ends the connection (opt-in: an
      // idle pipelining client would be cut too), failing the requests still waiting.
      waitMs: opts.waitMs,
      badFrame: (err: CodecError) => new AppClientError(`bad reply: ${err.message}`),
    });
    return new AppClient(framed);
  }

  /** Sends `msg` at once (the transport queues it); resolves with its reply. */
  request(msg: AppMessage): Promise<AppMessage> {
    try {
      // Encoded (and written) first: a message the encoder rejects leaves no waiter behind.
      this.#framed.write(msg);
    } catch (err) {
      if (err instanceof Error && err.name === "FramedClientError") {
        return Promise.reject(new AppClientError(err.message));
      }
      return Promise.reject(err);
    }
    return new Promise<AppMessage>((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** Half-close: no more requests; replies still arrive. */
  end(): void {
    this.#framed.end();
  }

  close(mode: "graceful" | "abort" = "graceful"): void {
    this.#framed.close(mode);
  }

  /** Requests sent whose replies have not arrived yet. */
  get outstanding(): number {
    return this.#waiting.length - this.#head;
  }

  /** Hands each reply to the oldest waiting request; then fails whatever is left. */
  async #readReplies(): Promise<void> {
    let failure: Error;
    try {
      for await (const msg of this.#framed) {
        const w = this.#shift();
        if (!w) {
          this.#framed.close("abort");
          failure = new AppClientError("server sent a reply nobody asked for");
          break;
        }
        w.resolve(msg);
      }
      const n = this.outstanding;
      failure ??= this.#framed.serverEnded
        ? new AppClientError(`server closed the connection with ${n} repl${n === 1 ? "y" : "ies"} missing`)
        : new AppClientError("connection closed before the reply arrived");
    } catch (err) {
      failure = err instanceof Error ? err : new AppClientError(String(err));
    }
    // Requests sent after the stream ended (a race with the close) fail the same way.
    const rejectLeft = () => {
      for (let w = this.#shift(); w; w = this.#shift()) w.reject(failure);
    };
    rejectLeft();
    void this.closed.then(rejectLeft);
  }

  #shift(): Waiter | undefined {
    if (this.#head >= this.#waiting.length) return undefined;
    const w = this.#waiting[this.#head]!;
    this.#waiting[this.#head++] = undefined as unknown as Waiter;
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    return w;
  }
}
