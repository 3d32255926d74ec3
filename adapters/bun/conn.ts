// One Bun socket as a contract Conn. Bun's socket.write() hands bytes straight to the
// kernel and returns how many it took; the remainder waits in a WriteQueue, flushed from
// Bun's `drain` callback. The Bun 1.4.5 socket behaviours absorbed here are listed in
// transport.ts; each is handled (and explained) where it happens below.

import { type Addr, allocateConnId, type Conn, ConnError, type ConnHandler } from "../../src/transport.ts";
import { WriteQueue } from "../../src/adapter-kit/write-queue.ts";
import { tcpEndpoint } from "../../src/addr.ts";
import type { BunSocket, BunSocketHandler, BunSysError } from "./bun-types.ts";
import { asError, connError } from "./errors.ts";
import { type BunTlsState, tlsConnError } from "./tls.ts";

// Every live connection of this process (accepted and connected): the accept guard
// compares it with the open-file limit.
let liveConns = 0;

export function liveConnCount(): number {
  return liveConns;
}

/** Writes below this size are merged with their queued successors before a flush. */
const COALESCE_BELOW = 16 * 1024;
const COALESCE_MAX = 64 * 1024;
const COALESCE = { below: COALESCE_BELOW, max: COALESCE_MAX }; // one object for every connection

export class BunConn implements Conn {
  readonly id = allocateConnId();
  readonly remote: Addr;
  readonly local: Addr;

  readonly #socket: BunSocket<BunConn | undefined>;
  readonly #handler: ConnHandler;
  readonly #hwm: number;

  // Outbound: what the kernel has not taken yet, in order.
  readonly #queue = new WriteQueue(COALESCE);
  #needDrain = false;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;

  #ended = false; // end() or close() called: no more writes accepted
  #shutdownSent = false; // our FIN is out (SHUT_WR done)
  #closeWhenFlushed = false; // close("graceful") waits for the queue
  #localClose = false; // we closed it (graceful or abort)
  #peerEnded = false; // the peer's FIN was reported
  #closed = false;
  #closeReported = false;
  #broken = false; // a write failed: Bun then reports `end` and a clean `close`, both bogus
  #error: Error | undefined;
  /** TLS connections only (tls.ts): the handshake's progress; `tlsClient` when we are the client. */
  tls: BunTlsState | undefined;
  tlsClient = false;

  // Inbound: data Bun delivered after pause() (if it ever does) waits here.
  #paused = false;
  #stash: Uint8Array[] = [];
  #stashedEnd = false;
  #stashScheduled = false;

  /** >0 while we are inside a Bun call that may fire `close` synchronously. */
  #depth = 0;

  constructor(
    socket: BunSocket<BunConn | undefined>,
    handler: ConnHandler,
    hwm: number,
    unixPath: string | undefined,
    /** The local address when the listener already knows it (addr.ts acceptedLocal): no getsockname. */
    local?: Addr,
  ) {
    this.#socket = socket;
    this.#handler = handler;
    this.#hwm = hwm;
    if (unixPath !== undefined) {
      this.remote = { transport: "unix", path: unixPath };
      this.local = { transport: "unix", path: unixPath };
    } else {
      // Unset when the peer reset before this accept was handled: the unknown address.
      this.remote = tcpEndpoint(socket.remoteAddress, socket.remotePort);
      this.local = local ?? tcpEndpoint(socket.localAddress, socket.localPort);
    }
    liveConns++;
  }

  get queued(): number {
    return this.#queue.bytes;
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(bytes: Uint8Array): boolean {
    if (this.#ended || this.#closed) return false;
    if (bytes.length > 0) {
      if (this.#queue.isEmpty) {
        const n = this.#write(bytes);
        if (this.#closed) return false;
        if (n < bytes.length) this.#queue.push(n > 0 ? bytes.subarray(n) : bytes);
      } else {
        this.#queue.push(bytes);
      }
    }
    if (this.#queue.bytes < this.#hwm) return true;
    this.#needDrain = true;
    // Only with highWaterMark 0 can the queue be empty here: Node still emits 'drain'.
    if (this.#queue.isEmpty) this.#scheduleDrain();
    return false;
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    if (!this.#closed) this.#sys(() => this.#socket.pause());
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#closed) return;
    this.#sys(() => this.#socket.resume());
    if (this.#stash.length > 0 || this.#stashedEnd) this.#scheduleStash();
  }

  end(): void {
    if (this.#ended || this.#closed) return;
    this.#ended = true;
    if (this.#queue.isEmpty) this.#shutdown();
    // else: #flush() sends the FIN once the queue is empty.
  }

  close(mode: "graceful" | "abort" = "graceful"): void {
    if (this.#closed) return;
    if (mode === "abort") {
      this.#abort();
      return;
    }
    if (this.#closeWhenFlushed) return;
    this.#ended = true;
    this.#localClose = true;
    this.#closeWhenFlushed = true;
    if (this.#queue.isEmpty) this.#finishClose();
  }

  setNoDelay(on: boolean): void {
    if (!this.#closed) this.#sys(() => this.#socket.setNoDelay(on));
  }

  setKeepAlive(on: boolean, initialDelayMs?: number): void {
    if (!this.#closed) this.#sys(() => this.#socket.setKeepAlive(on, initialDelayMs ?? 0));
  }

  // ---- events from Bun ----

  onOpen(): void {
    if (this.#handler.open) this.#call(() => this.#handler.open!(this));
  }

  onData(chunk: Uint8Array): void {
    if (this.#closed || this.#localClose) return; // after close(): only the close event
    if (this.#paused || this.#stash.length > 0) {
      this.#stash.push(chunk);
      return;
    }
    this.#deliver(chunk);
  }

  onEnd(): void {
    if (this.#closed || this.#peerEnded || this.#broken || this.#localClose) return;
    if (this.#paused || this.#stash.length > 0) {
      this.#stashedEnd = true;
      return;
    }
    this.#reportEnd();
  }

  onWritable(): void {
    if (!this.#closed) this.#flush();
  }

  onError(err: BunSysError): void {
    this.#error ??= this.tls ? tlsConnError(err, this.tlsClient) : connError(err);
  }

  /** A TLS handshake failed or was refused (tls.ts): the reason the close will carry. */
  noteError(err: Error): void {
    this.#error ??= err;
  }

  onClose(err?: BunSysError): void {
    if (this.#closed) return;
    this.#closed = true;
    liveConns--;
    if (err) this.#error ??= connError(err);
    this.#queue.clear();
    clearTimeout(this.#drainTimer);
    if (this.#depth > 0) queueMicrotask(() => this.#reportClose());
    else this.#reportClose();
  }

  // ---- internals ----

  /** Call into Bun; a synchronous `close` inside is reported after we return. */
  #sys<T>(fn: () => T): T {
    this.#depth++;
    try {
      return fn();
    } finally {
      this.#depth--;
    }
  }

  /** handler.data without a closure per chunk (otherwise as #call). */
  #deliver(chunk: Uint8Array): void {
    this.#depth++;
    try {
      this.#handler.data(this, chunk);
    } catch (err) {
      this.#error ??= asError(err);
      this.#abort();
    } finally {
      this.#depth--;
    }
  }

  /** Run a handler callback; a throwing handler aborts its own connection only. */
  #call(fn: () => void): void {
    this.#depth++;
    try {
      fn();
    } catch (err) {
      this.#error ??= asError(err);
      this.#abort();
    } finally {
      this.#depth--;
    }
  }

  /**
   * socket.write(); -1 means Bun found the connection broken (EPIPE, ECONNRESET: both are
   * ECONNRESET in the contract). Bun then
   * reports `end` and a `close` with no error (the errno is lost): supply an error and
   * drop that `end`, or the reset would pass for a clean FIN.
   */
  #write(bytes: Uint8Array): number {
    // As #sys, without a closure per write.
    let n: number;
    this.#depth++;
    try {
      n = this.#socket.write(bytes);
    } finally {
      this.#depth--;
    }
    if (n < 0 && !this.#localClose) {
      this.#broken = true;
      this.#error ??= new ConnError("ECONNRESET");
    }
    return n;
  }

  #flush(): void {
    while (!this.#queue.isEmpty) {
      const piece = this.#queue.next();
      const n = this.#write(piece);
      if (this.#closed) return;
      if (n <= 0) return; // the kernel is full: Bun calls drain again when it is writable
      this.#queue.consume(n);
      if (n < piece.length) return;
    }
    this.#afterFlush();
  }

  /** The queue just became empty. */
  #afterFlush(): void {
    if (this.#closeWhenFlushed) {
      this.#finishClose();
      return;
    }
    if (this.#ended && !this.#shutdownSent) this.#shutdown();
    // No drain once end()/close() was called: nothing more can be written (as in Node, Deno).
    if (this.#needDrain && !this.#closed && !this.#ended) {
      this.#needDrain = false;
      if (this.#handler.drain) this.#call(() => this.#handler.drain!(this));
    }
  }

  #scheduleDrain(): void {
    if (this.#drainTimer !== undefined) return;
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      if (!this.#closed && this.#queue.isEmpty) this.#afterFlush();
    }, 0);
  }

  #shutdown(): void {
    if (this.#shutdownSent || this.#closed) return;
    this.#shutdownSent = true;
    if (this.#peerEnded && this.tls === undefined) {
      // Both directions are done: close(2) sends our FIN as shutdown would, and Bun would
      // close right after its shutdown(2) anyway (one system call and epoll change fewer).
      this.#sys(() => this.#socket.end());
      return;
    }
    // No argument: SHUT_WR in Bun 1.4.5. If the peer's FIN is already in, Bun now closes.
    this.#sys(() => this.#socket.shutdown());
  }

  #finishClose(): void {
    if (this.#closed) return;
    this.#shutdown(); // FIN after everything queued
    if (this.#closed) return;
    this.#sys(() => this.#socket.end()); // close(2)
    if (!this.#closed) this.onClose(); // Bun always reports it; never leave it unreported
  }

  #abort(): void {
    if (this.#closed) return;
    this.#localClose = true;
    this.#ended = true;
    this.#queue.clear();
    this.#sys(() => this.#socket.terminate()); // RST
    if (!this.#closed) this.onClose();
  }

  #scheduleStash(): void {
    if (this.#stashScheduled) return;
    this.#stashScheduled = true;
    queueMicrotask(() => {
      this.#stashScheduled = false;
      this.#deliverStash(false);
    });
  }

  /** Hand over what arrived while paused; `force` on a clean close (pause can't hold). */
  #deliverStash(force: boolean): void {
    if (this.#localClose) return; // after close(): only the close event
    while (this.#stash.length > 0 && (force || (!this.#paused && !this.#closed))) {
      this.#deliver(this.#stash.shift()!);
    }
    if (this.#stash.length === 0 && this.#stashedEnd && (force || (!this.#paused && !this.#closed))) {
      this.#stashedEnd = false;
      this.#reportEnd();
    }
  }

  #reportEnd(): void {
    if (this.#peerEnded) return;
    this.#peerEnded = true;
    if (this.#handler.end) this.#call(() => this.#handler.end!(this));
    else if (!this.#closed) this.end();
  }

  #reportClose(): void {
    if (this.#closeReported) return;
    this.#closeReported = true;
    if (!this.#error && !this.#localClose) {
      // A clean close we did not cause: the peer's FIN. Bun reports it as `close` without
      // `end` when our FIN went first; the contract wants `end` first.
      this.#deliverStash(true);
      if (!this.#peerEnded) {
        this.#peerEnded = true;
        if (this.#handler.end) {
          try {
            this.#handler.end(this);
          } catch (err) {
            this.#error ??= asError(err);
          }
        }
      }
    }
    this.#stash = [];
    try {
      this.#handler.close?.(this, this.#error);
    } catch {
      // close is the last event; nothing is left to abort.
    }
  }
}

export type SocketData = BunConn | undefined;

/** One Bun handler object per listener / connect: routes every event to its BunConn. */
export function socketHandlers(onOpen: (socket: BunSocket<SocketData>) => void): BunSocketHandler<SocketData> {
  return {
    binaryType: "uint8array", // a fresh Uint8Array per read: the receiver owns it
    open: onOpen,
    data: (s, chunk) => s.data?.onData(chunk),
    drain: (s) => s.data?.onWritable(),
    end: (s) => s.data?.onEnd(),
    error: (s, err) => s.data?.onError(err),
    close: (s, err) => s.data?.onClose(err),
  };
}
