// The Transport contract: the only surface through which src/ touches sockets.
// adapters/{node,deno,bun} implement it; test/conformance/ proves they agree.
//
// Push-style (shaped like Bun's socket handlers) because that maps onto all three
// runtimes without an extra layer of promises or copies on the data path.

/** A socket address. `port: 0` in listen options asks the OS for a free port. */
export type Addr =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

export interface ListenOptions {
  addr: Addr;
  /** SO_REUSEPORT where the runtime and OS support it (Linux); ignored elsewhere. */
  reusePort?: boolean;
  /** Per-connection write queue high-water mark in bytes (default 64 KiB). */
  highWaterMark?: number;
  /**
   * Accepting failed (EMFILE, ENFILE, ...). The listener keeps listening; the adapter
   * backs off before accepting again instead of spinning. Without it errors are ignored.
   * `err` is a ConnError (see net-errors.ts).
   */
  onAcceptError?(err: Error): void;
  /** Serve TLS on this (TCP) listener: see tls.ts. Connections open at TCP accept, before the handshake. */
  tls?: TlsServerOptions;
}

export interface ConnectOptions {
  addr: Addr;
  /** Write queue high-water mark in bytes (default 64 KiB). */
  highWaterMark?: number;
  /** Give up connecting after this many milliseconds (default: the OS's own timeout). */
  timeoutMs?: number;
  /** Speak TLS (TCP only): connect() resolves once the handshake and verification passed (tls.ts). */
  tls?: TlsClientOptions;
}

/** One connected stream socket. Every method is safe to call at any time, including after close. */
export interface Conn {
  /** Process-unique, increasing id; handy for logs and maps. */
  readonly id: number;
  readonly remote: Addr;
  readonly local: Addr;
  /**
   * Queues ALL of `bytes` for sending (the adapter keeps whatever the kernel did not take
   * and flushes it in order). The adapter may keep a reference to `bytes` until it is
   * sent (no defensive copy): the caller must not modify it after the call.
   * Returns false when the queue is at or above the high-water mark: stop writing and
   * wait for `drain`. Writes after end()/close() are ignored and return false.
   */
  write(bytes: Uint8Array): boolean;
  /** Bytes accepted by write() but not yet handed to the kernel. */
  readonly queued: number;
  /** Stop delivering `data` (inbound backpressure). Idempotent. */
  pause(): void;
  /** Resume delivering `data`. Idempotent. */
  resume(): void;
  /** Half-close: flush the queue, then send FIN. Reading continues until the peer's FIN. */
  end(): void;
  /**
   * "graceful" (default): flush the queue, send FIN, then release the socket without
   * waiting for the peer. "abort": drop the queue and reset the connection at once.
   */
  close(mode?: "graceful" | "abort"): void;
  /** True once the socket is fully closed (the `close` handler has run or is about to). */
  readonly closed: boolean;
  setNoDelay(on: boolean): void;
  setKeepAlive(on: boolean, initialDelayMs?: number): void;
  /** Present on TLS connections only: the handshake's progress (tls.ts). */
  readonly tls?: TlsConnState;
}

/**
 * Event handler for connections. One object serves every connection of a listener
 * (or the single connection of connect()). Handlers must not throw; if one does, the
 * adapter aborts that connection and passes the error to `close`.
 */
export interface ConnHandler {
  /** The connection is established; called before any other event for it. */
  open?(conn: Conn): void;
  /** Bytes arrived. The receiver owns `chunk` (the adapter never reuses it). */
  data(conn: Conn, chunk: Uint8Array): void;
  /**
   * The peer sent FIN. We may still write. When no `end` handler is given, the adapter
   * calls conn.end() itself (so a plain handler behaves like a non-half-open socket).
   */
  end?(conn: Conn): void;
  /** The write queue emptied (everything handed to the kernel) after write() returned false. */
  drain?(conn: Conn): void;
  /**
   * Exactly once per connection, always the last event. `err` when it ended abnormally:
   * a ConnError (reset, broken pipe, ...: see net-errors.ts), or the error a handler threw.
   */
  close?(conn: Conn, err?: Error): void;
}

export interface Listener {
  /** The bound address: the real port when 0 was asked for. */
  readonly addr: Addr;
  /** Whether SO_REUSEPORT is in effect (asked for, and supported by runtime and OS). */
  readonly reusePort: boolean;
  /** Stop accepting. Established connections are not touched. Resolves when the port is free. */
  close(): Promise<void>;
  /**
   * TLS listeners on runtimes that can swap certificates: new connections use `tls` from now
   * on, open ones are untouched. Throws a TlsConfigError (old ones kept) when `tls` is unusable.
   * Absent where the runtime cannot (see Transport.tlsSupport).
   */
  reloadTls?(tls: TlsServerOptions): void;
}

export interface Transport {
  /** "memory" for the in-memory transport of src/testing/ (tests without sockets). */
  readonly runtime: "node" | "deno" | "bun" | "memory";
  listen(opts: ListenOptions, handler: ConnHandler): Promise<Listener>;
  /** What this runtime's TLS can do (absent: no TLS at all). */
  readonly tlsSupport?: TlsSupport;
  /** Resolves once connected (after handler.open); rejects with a ConnectError (never a raw runtime error). */
  connect(opts: ConnectOptions, handler: ConnHandler): Promise<Conn>;
  /**
   * A hint for decoders (ByteQueue's `copyBelow`): a frame shorter than this that lies
   * inside one received chunk is cheaper copied out than viewed on this runtime. Absent: 0
   * (views, which cost next to nothing where chunks already sit in an ArrayBuffer).
   */
  readonly copyFramesBelow?: number;
}

// The errors of the contract (codes, sentences, classes) live in net-errors.ts: connect()
// rejects with ConnectError, listen() with ListenError, and an established connection
// that fails reaches close(conn, err) as a ConnError. Each carries a `code` from the
// closed set NetErrorCode and a message built from one table, the same on every runtime.
import type { TlsClientOptions, TlsConnState, TlsServerOptions, TlsSupport } from "./tls.ts";
export type { TlsClientOptions, TlsConnState, TlsServerOptions, TlsSupport } from "./tls.ts";
export { TlsConfigError } from "./tls.ts";

export { ConnectError, ConnError, ListenError, NET_ERROR_CODES, NetError } from "./net-errors.ts";
export type { NetErrorCode } from "./net-errors.ts";

export const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

let nextConnId = 1;
/** Shared id source so ids are unique across listeners and clients in one process. */
export function allocateConnId(): number {
  return nextConnId++;
}
