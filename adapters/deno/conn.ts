// One Deno connection as a contract Conn. Deno's socket API is pull-style
// (promise-returning read/write), the contract is push-style, so each connection runs
// two small loops:
//   - a read loop: conn.read(buf) → handler.data; null (the peer's FIN) → handler.end.
//     Not conn.readable: that stream closes the whole socket at EOF, which breaks
//     half-close, and it costs a promise/stream layer per chunk.
//   - a writer loop: conn.write() may take only part of a buffer, so write() only
//     queues, and one loop hands the queue to the kernel in order, looping on partial
//     writes, then fires drain / sends the FIN (closeWrite) / closes as asked.
// Every promise the loops await is caught: a reset, broken pipe or a closed resource
// ends only its own connection (handler.close(conn, err)), never the process.

import { type Addr, allocateConnId, type Conn, type ConnHandler } from "../../src/transport.ts";
import { WriteQueue } from "../../src/adapter-kit/write-queue.ts";
import type { DenoAddr, DenoConn } from "./deno-types.ts";
import { connError, type ErrnoError, toError } from "./errors.ts";
import { denoTlsCode, type DenoTlsState, tlsConnError } from "./tls.ts";
import { isTlsCode } from "../../src/tls.ts";
import { primeMallocThresholdOnBulkRead } from "../../src/adapter-kit/malloc-threshold.ts";

/**
 * First read buffer per connection; it doubles while reads fill it, up to MAX_READ, and
 * shrinks again after small reads. Small so that thousands of idle connections (each
 * with a read pending on its own buffer) stay cheap. 1 KiB costs about 3 KB less per
 * idle connection, but with it a served probe's socket was twice not released within 5 s
 * on Deno 2.9.6 in test/reliability's connection-limits scenario (cause not found; never
 * seen with 4 KiB): 4 KiB it stays (decisions, entry 97).
 */
const INITIAL_READ = 4 * 1024;
const MAX_READ = 256 * 1024;
/** Small queued chunks are merged into one write of up to this many bytes. */
const COALESCE_LIMIT = 64 * 1024;
const COALESCE = { below: COALESCE_LIMIT, max: COALESCE_LIMIT }; // one object for every connection
/** After a failed write, how long what the peer sent before its reset may take to be read. */
const WRITE_FAILURE_READ_MS = 2000;

/**
 * The accepted end of a unix connection has no path (null); both ends report the
 * listening path, as the Node adapter does.
 */
function toAddr(a: DenoAddr, unixPath: string | undefined): Addr {
  if (unixPath !== undefined) return { transport: "unix", path: unixPath };
  if ("path" in a) return { transport: "unix", path: a.path ?? "" };
  return { transport: "tcp", hostname: a.hostname, port: a.port };
}

export class DenoConnImpl implements Conn {
  readonly id = allocateConnId();
  readonly remote: Addr;
  readonly local: Addr;

  readonly #conn: DenoConn;
  readonly #handler: ConnHandler;
  readonly #hwm: number;
  readonly #tcp: boolean;

  // Write side: the chunks not yet handed to the kernel, in order.
  readonly #queue = new WriteQueue(COALESCE);
  #writing = false;
  #needDrain = false;
  /** end() or close() was called: no more writes accepted. */
  #writeShut = false;
  /** closeWrite() has been started. */
  #finStarted = false;
  /** Our FIN went out (closeWrite resolved). */
  #finSent = false;
  /** close("graceful") was asked: release the socket once the FIN is out. */
  #closeWhenFlushed = false;

  // Read side.
  #readEof = false;
  #paused = false;
  #wakeReader: (() => void) | undefined;

  #closed = false;
  #error: ErrnoError | undefined;
  /** TLS connections only (tls.ts): the handshake's progress. */
  tls: DenoTlsState | undefined;
  /** A write failed while reading ran: what the peer sent before its reset is read first. */
  #writeFailed: { err: unknown; timer: ReturnType<typeof setTimeout> } | undefined;

  constructor(conn: DenoConn, unixPath: string | undefined, handler: ConnHandler, highWaterMark: number) {
    this.#conn = conn;
    this.#handler = handler;
    this.#hwm = highWaterMark;
    this.#tcp = unixPath === undefined;
    this.remote = toAddr(conn.remoteAddr, unixPath);
    this.local = toAddr(conn.localAddr, unixPath);
  }

  get queued(): number {
    return this.#queue.bytes;
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(bytes: Uint8Array): boolean {
    if (this.#writeShut || this.#closed || this.#writeFailed) return false;
    if (bytes.length > 0) {
      this.#queue.push(bytes);
      if (!this.#writing) this.#flush();
    }
    if (this.#queue.bytes >= this.#hwm) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const wake = this.#wakeReader;
    this.#wakeReader = undefined;
    wake?.();
  }

  end(): void {
    if (this.#writeShut || this.#closed || this.#writeFailed) return;
    this.#writeShut = true;
    if (!this.#writing) void this.#sendFin();
  }

  /**
   * close("abort") cannot force an RST: Deno exposes no SO_LINGER, and dropping a Deno
   * TCP conn shuts its write half down first. The peer therefore reads a FIN (EOF), not
   * ECONNRESET; an RST follows only if unread data was left in our receive buffer, or
   * when the peer writes to the closed socket. The queue is still dropped and the socket
   * released at once.
   */
  close(mode: "graceful" | "abort" = "graceful"): void {
    if (this.#closed) return;
    if (mode === "abort") {
      this.#finish(undefined);
      return;
    }
    if (this.#writeFailed) {
      this.#fail(this.#writeFailed.err);
      return;
    }
    this.#writeShut = true;
    this.#closeWhenFlushed = true;
    if (this.#finSent) this.#finish(undefined);
    else if (!this.#writing) void this.#sendFin(); // if a FIN is already on its way, its completion closes
  }

  // Deno's setNoDelay/setKeepAlive exist on TCP conns only: no-ops for unix sockets.
  setNoDelay(on: boolean): void {
    if (!this.#tcp || this.#closed) return;
    try {
      this.#conn.setNoDelay?.(on);
    } catch {
      // socket already gone: the read/write loop reports it
    }
  }

  setKeepAlive(on: boolean, _initialDelayMs?: number): void {
    // Deno's setKeepAlive takes no delay; the OS default (tcp_keepalive_time) applies.
    if (!this.#tcp || this.#closed) return;
    try {
      this.#conn.setKeepAlive?.(on);
    } catch {
      // socket already gone
    }
  }

  /** Fire open, then start reading. Called once the connection is established. */
  start(): void {
    this.#call(() => this.#handler.open?.(this));
    if (!this.#closed) this.#readLoop().catch((err) => this.#fail(err));
  }

  // ---- read side ----

  #waitResume(): Promise<void> {
    return new Promise((resolve) => {
      this.#wakeReader = resolve;
    });
  }

  async #readLoop(): Promise<void> {
    let size = INITIAL_READ;
    let buf = new Uint8Array(size);
    while (!this.#closed) {
      if (this.#paused) {
        await this.#waitResume();
        continue;
      }
      let n: number | null;
      try {
        n = await this.#conn.read(buf);
      } catch (err) {
        this.#fail(this.#readFailureCause(err));
        return;
      }
      // A read already in flight when pause() was called: hold its result until resume().
      while (this.#paused && !this.#closed) await this.#waitResume();
      if (this.#closed) return;
      if (n === null) {
        if (this.#writeFailed) this.#fail(this.#writeFailed.err);
        else this.#onEof();
        return;
      }
      if (n === 0) continue;
      let chunk: Uint8Array;
      if (n === size) {
        // A full read: the whole buffer is the chunk (right-sized, nothing to copy); a
        // streaming peer: read more at a time.
        chunk = buf;
        if (size < MAX_READ) size *= 2;
        primeMallocThresholdOnBulkRead(n); // glibc's thresholds: malloc-threshold.ts
        buf = new Uint8Array(size);
      } else {
        // The buffer stays ours for the next read; the receiver gets a right-sized copy of
        // exactly the bytes read (no fresh zeroed buffer per read, no view pinning a larger one).
        chunk = buf.slice(0, n);
        if (size > INITIAL_READ && n <= size >>> 2) {
          // A burst had grown it: an idle connection holds its read buffer for as long as
          // its read is pending, so shrink back to fit the traffic.
          size = Math.max(INITIAL_READ, 2 ** Math.ceil(Math.log2(n + 1)));
          buf = new Uint8Array(size);
        }
      }
      // After close() the connection is over for its handler: read on (to see the FIN), deliver nothing.
      if (!this.#closeWhenFlushed) this.#deliver(chunk);
    }
  }

  /** handler.data without a closure per chunk; a throwing handler aborts its own connection only. */
  #deliver(chunk: Uint8Array): void {
    if (this.#closed) return;
    try {
      this.#handler.data(this, chunk);
    } catch (err) {
      this.#error ??= toError(err);
      this.#finish(this.#error);
    }
  }

  #onEof(): void {
    this.#readEof = true;
    const h = this.#handler;
    if (this.#closeWhenFlushed) {
      // close() was called: no end event, only the close
    } else if (h.end) this.#call(() => h.end!(this));
    else this.end();
    this.#maybeFinish();
  }

  // ---- write side ----

  /**
   * Hand the head of the queue to the kernel; on completion, consume what it took and
   * go on until the queue is empty. Plain promise callbacks rather than an async loop:
   * one promise per write is all the per-message cost there is.
   */
  #flush(): void {
    if (this.#closed) return;
    if (this.#queue.isEmpty) {
      this.#writing = false;
      this.#flushed();
      return;
    }
    this.#writing = true;
    let written: Promise<number>;
    try {
      written = this.#conn.write(this.#queue.next());
    } catch (err) {
      this.#onWriteError(err);
      return;
    }
    written.then(this.#onWritten, this.#onWriteError);
  }

  readonly #onWritten = (n: number): void => {
    if (this.#closed) return;
    this.#queue.consume(n);
    this.#flush();
  };

  readonly #onWriteError = (err: unknown): void => {
    this.#writing = false;
    if (this.#closed || this.#writeFailed) return;
    // The peer may have answered before it reset (an error reply, then RST): the kernel
    // still holds those bytes, and closing now would throw them away. While reading runs,
    // the read loop hands them over and then meets the reset itself; the write error is
    // what close reports. Bounded: a read that neither comes nor fails is not waited for.
    if (this.#paused || this.#readEof) {
      this.#fail(err);
      return;
    }
    this.#queue.clear();
    this.#writeFailed = { err, timer: setTimeout(() => this.#fail(err), WRITE_FAILURE_READ_MS) };
  };

  /** The queue is empty: fire drain if it was asked for, then the FIN if end() was called. */
  #flushed(): void {
    // No drain once end()/close() was called: nothing more can be written (as in Node).
    if (this.#needDrain && !this.#writeShut) {
      this.#needDrain = false;
      const h = this.#handler;
      if (h.drain) this.#call(() => h.drain!(this));
    }
    // The drain handler may have queued more (and restarted the writer).
    if (!this.#closed && !this.#writing && this.#writeShut) void this.#sendFin();
  }

  async #sendFin(): Promise<void> {
    if (this.#finStarted || this.#closed) return;
    this.#finStarted = true;
    try {
      await this.#conn.closeWrite();
    } catch (err) {
      this.#fail(err);
      return;
    }
    if (this.#closed) return;
    this.#finSent = true;
    if (this.#closeWhenFlushed) this.#finish(undefined);
    else this.#maybeFinish();
  }

  // ---- lifecycle ----

  /** Both directions are done (our FIN out, the peer's FIN in): release the socket. */
  #maybeFinish(): void {
    if (this.#readEof && this.#finSent) this.#finish(undefined);
  }

  /**
   * After a failed write the read that follows usually meets the same reset, and the write's
   * error is the one reported. But a TLS peer's verdict (an alert read just before its reset,
   * e.g. a server refusing our certificate while our first write was on its way) says why
   * it cut us: that wins, or the same refusal would read differently from run to run.
   */
  #readFailureCause(readErr: unknown): unknown {
    const written = this.#writeFailed?.err;
    if (written === undefined) return readErr;
    if (this.tls && isTlsCode(denoTlsCode(readErr, this.tls.client))) return readErr;
    return written;
  }

  #fail(err: unknown): void {
    if (this.#closed) return; // errors of ops cancelled by our own close()
    this.#finish(this.tls ? tlsConnError(err, this.tls.client) : connError(err));
  }

  /** Close the socket and fire handler.close, exactly once. */
  #finish(err: ErrnoError | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error ??= err;
    if (this.#writeFailed) clearTimeout(this.#writeFailed.timer);
    this.#queue.clear();
    this.#needDrain = false;
    try {
      this.#conn.close(); // pending read/write/closeWrite ops reject; the loops ignore them
    } catch {
      // already closed
    }
    const wake = this.#wakeReader;
    this.#wakeReader = undefined;
    wake?.();
    // Deferred so close() is never re-entered from inside the caller's own call
    // (as with Node, where 'close' is emitted asynchronously).
    queueMicrotask(() => {
      try {
        this.#handler.close?.(this, this.#error);
      } catch {
        // close is the last event; nothing is left to abort.
      }
    });
  }

  /** Run a handler callback; a throwing handler aborts its own connection only. */
  #call(fn: () => void): void {
    if (this.#closed) return;
    try {
      fn();
    } catch (err) {
      this.#error ??= toError(err);
      this.#finish(this.#error);
    }
  }
}
