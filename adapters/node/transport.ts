// Transport over node:net. Node already queues partial writes in user memory and
// reports backpressure through write()'s return value and 'drain'; this adapter maps
// that onto the contract, keeps sockets half-open capable, and makes sure no socket
// error can ever reach the process as an uncaught exception.

import * as net from "node:net";
import { existsSync, lstatSync, readSync, unlinkSync } from "node:fs";
import {
  type Addr,
  allocateConnId,
  type Conn,
  ConnectError,
  type ConnectOptions,
  type ConnHandler,
  DEFAULT_HIGH_WATER_MARK,
  type Listener,
  ListenError,
  type ListenOptions,
  type Transport,
} from "../../src/transport.ts";
import { acceptedLocal, tcpEndpoint } from "../../src/addr.ts";
import { judgeStaleUnixSocket } from "../../src/adapter-kit/stale-unix-socket.ts";
import { connError, listenCode, nodeNetCode, rawDetail } from "./errors.ts";
import * as tls from "node:tls";
import { TlsCarrier } from "./tls-carrier.ts";
import { primeMallocThresholdOnBulkRead } from "../../src/adapter-kit/malloc-threshold.ts";
import { judgeClientCertRefusal } from "../../src/adapter-kit/tls-client-refusal.ts";
import { clientOptions, NODE_TLS_SUPPORT, NodeTlsServer, NodeTlsState, tlsConnectError, tlsConnError } from "./tls.ts";

type ErrnoError = Error & { code?: string };

/**
 * How far a socket reads ahead of its handler: node:net keeps reading a paused socket until
 * this much waits in user memory. net.createServer's `highWaterMark` sets the read side and
 * the write side alike, so the listener is given this and the write high-water mark is
 * judged by the adapter itself (a paused connection used to read up to the 1 MiB write buffer).
 */
const READ_AHEAD = 64 * 1024;

class NodeConn implements Conn {
  readonly id = allocateConnId();
  readonly remote: Addr;
  readonly local: Addr;
  #error: Error | undefined;
  #ended = false;
  /** write() returned false: one `drain` is owed once the queue is empty. */
  #needDrain = false;
  #paused = false;
  /** The peer's FIN, held while paused: node:net emits 'end' even while paused. */
  #endHeld = false;
  #endReported = false;
  /** Unread input was already handed over after a failed write (once is all there is). */
  #salvaged = false;
  /** close() was called: the handler gets no more data, end or drain, only its close. */
  #closing = false;
  /** TLS connections: the handshake state, and the TCP socket under the TLSSocket (for abort). */
  tls: NodeTlsState | undefined;
  raw: net.Socket | undefined;
  /**
   * TLS server side: bytes that arrived before the handshake's verdict. node:tls emits
   * 'secure' (where a client certificate is judged) only after the data that came with the
   * client's last handshake flight: it is held here until the verdict, and dropped if refused.
   */
  #early: Uint8Array[] | undefined;

  constructor(
    readonly socket: net.Socket,
    unixPath: string | undefined,
    private readonly handler: ConnHandler,
    /** The write queue's high-water mark (the contract's). */
    private readonly hwm: number,
    /** The local address when the listener already knows it (bound to one address): no getsockname. */
    local?: Addr,
  ) {
    if (unixPath !== undefined) {
      this.remote = { transport: "unix", path: unixPath };
      this.local = { transport: "unix", path: unixPath };
    } else {
      // Undefined when the peer reset before this accept was handled: the unknown address.
      this.remote = tcpEndpoint(socket.remoteAddress, socket.remotePort);
      this.local = local ?? tcpEndpoint(socket.localAddress, socket.localPort);
    }
  }

  get queued(): number {
    return this.socket.writableLength;
  }

  get closed(): boolean {
    return this.socket.destroyed;
  }

  write(bytes: Uint8Array): boolean {
    if (this.#ended || this.socket.destroyed) return false;
    if (bytes.length === 0) return this.socket.writableLength < this.hwm;
    // Node 20 returns true from a write the kernel took at once, whatever the high-water
    // mark (0 included), and then owes no 'drain'; and a listener's sockets have node's
    // high-water mark at READ_AHEAD, not ours: judge the queue ourselves, and settle the
    // drain from the write's callback too.
    this.socket.write(bytes, this.#onWritten);
    if (this.socket.writableLength < this.hwm) return true;
    this.#needDrain = true;
    return false;
  }

  pause(): void {
    this.#paused = true;
    this.socket.pause();
  }

  resume(): void {
    this.#paused = false;
    this.socket.resume();
    // 'end' is emitted only once the read buffer is empty, so no data precedes a held FIN.
    if (this.#endHeld) setImmediate(() => this.#deliverHeldEnd(false));
  }

  end(): void {
    if (this.#ended || this.socket.destroyed) return;
    this.#ended = true;
    this.socket.end();
  }

  close(mode: "graceful" | "abort" = "graceful"): void {
    if (this.socket.destroyed) return;
    if (mode === "abort") {
      this.#abort();
      return;
    }
    this.#ended = true;
    this.#closing = true;
    // destroySoon: end() (flush, FIN) and destroy once the queue is flushed.
    this.socket.destroySoon();
  }

  setNoDelay(on: boolean): void {
    this.socket.setNoDelay(on);
  }

  setKeepAlive(on: boolean, initialDelayMs?: number): void {
    this.socket.setKeepAlive(on, initialDelayMs);
  }

  /** Wire socket events to the handler. Called once the connection is established. */
  attach(): void {
    const { socket, handler } = this;
    socket.on("error", (err) => {
      this.#error ??= this.tls ? tlsConnError(err) : connError(err);
      // node:tls reports an alert on an established connection (a refused client certificate)
      // without closing it, and the peer's FIN then reads as a clean end: close it ourselves.
      if (this.tls) {
        setImmediate(() => {
          // Once the TCP socket below is gone the TLS socket closes with it: never destroy
          // it after that (decision 105).
          if (!this.socket.destroyed && !this.raw?.destroyed) this.#abort();
        });
      }
    });
    socket.on("data", this.#onData);
    socket.on("end", () => {
      if (this.tls && this.#error) return; // a TLS alert: the close (with the error) follows
      if (this.#paused || (this.tls !== undefined && !this.tls.established)) this.#endHeld = true;
      else this.#reportEnd();
    });
    socket.on("drain", this.#onWritten);
    socket.on("close", () => {
      if (!this.#error) this.#deliverHeldEnd(true); // a clean close: pause cannot hold the FIN any longer
      try {
        handler.close?.(this, this.#error);
      } catch {
        // close is the last event; nothing is left to abort.
      }
    });
    this.#call(() => handler.open?.(this));
  }

  /** The TLS handshake passed (tls.ts): hand over what arrived before the verdict, in order. */
  tlsEstablished(): void {
    const early = this.#early;
    this.#early = undefined;
    for (const bytes of early ?? []) {
      if (this.#closing || this.socket.destroyed) return;
      this.#call(() => this.handler.data(this, bytes));
    }
    if (this.#endHeld) setImmediate(() => this.#deliverHeldEnd(false));
  }

  /**
   * Drop the queue and close now, with an RST when Node can send one. Node 20 never emits
   * 'close' for resetAndDestroy() on a socket that has already begun its FIN (end()), so
   * such a socket is destroyed plainly instead, as is a unix socket.
   */
  #abort(): void {
    // resetAndDestroy() throws ERR_INVALID_HANDLE_TYPE on a unix socket (no RST there).
    if (this.raw) {
      // A TLSSocket has no TCP handle of its own to reset: reset the one below, and only
      // that (destroying the TLSSocket too after the reset crashes Node 20: SIGSEGV); the
      // TLSSocket closes with it.
      if (!this.raw.destroyed && !this.raw.writableEnded) this.raw.resetAndDestroy();
      else this.socket.destroy();
    } else if (this.socket.writableEnded || this.local.transport === "unix") this.socket.destroy();
    else this.socket.resetAndDestroy();
  }

  #reportEnd(): void {
    if (this.#endReported || this.#closing) return;
    this.#endReported = true;
    if (this.handler.end) this.#call(() => this.handler.end!(this));
    else this.end();
  }

  /** Hand over a FIN held while paused; `force` when the socket is closing. */
  #deliverHeldEnd(force: boolean): void {
    if (!this.#endHeld || (!force && (this.#paused || this.socket.destroyed))) return;
    this.#endHeld = false;
    this.#reportEnd();
  }

  /**
   * One listener for every chunk, without a closure per event. A plain Uint8Array view of
   * the Buffer (node:net allocates each read's buffer to fit it), so that slice() copies.
   */
  readonly #onData = (chunk: Buffer): void => {
    if (this.#closing) return;
    primeMallocThresholdOnBulkRead(chunk.length);
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.tls !== undefined && !this.tls.established) {
      (this.#early ??= []).push(bytes); // held until the handshake's verdict (see #early)
      return;
    }
    try {
      this.handler.data(this, bytes);
    } catch (err) {
      this.#error ??= err instanceof Error ? err : new Error(String(err));
      this.#abort();
    }
  };

  /** One callback for every write and 'drain' event: no closure allocated per write. */
  readonly #onWritten = (err?: Error | null): void => {
    if (err) this.#salvageInput();
    else this.#maybeDrain();
  };

  /**
   * A write failed (EPIPE, ECONNRESET): Node is about to destroy the socket, and with it
   * whatever the peer sent that is still in the kernel, such as the error reply of a
   * server that refused our request and closed. Bun and Deno deliver those bytes; here
   * they are read from the descriptor (still open: the write callback runs before the
   * destroy) and handed over first, so the application sees the peer's last words.
   */
  #salvageInput(): void {
    const fd = (this.socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    // Only when nothing read earlier is still held back (paused): order must be kept.
    if (
      fd === undefined || fd < 0 || this.#endReported || this.#closing || this.#paused || this.socket.readableLength > 0
    ) return;
    if (this.#salvaged) return;
    this.#salvaged = true;
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (let i = 0; i < 1024; i++) { // bounded: at most 64 MiB
      let n: number;
      try {
        n = readSync(fd, buf); // the socket is non-blocking: EAGAIN when nothing is left
      } catch {
        return;
      }
      if (n <= 0) return;
      const chunk = new Uint8Array(buf.subarray(0, n)); // a copy: the receiver owns it
      this.#call(() => this.handler.data(this, chunk));
    }
  }

  /** No drain once end()/close() was called (as in Node): nothing more can be written. */
  #maybeDrain(): void {
    if (!this.#needDrain || this.#ended || this.socket.destroyed || this.socket.writableLength > 0) return;
    this.#needDrain = false;
    if (this.handler.drain) this.#call(() => this.handler.drain!(this));
  }

  /** Run a handler callback; a throwing handler aborts its own connection only. */
  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#error ??= err instanceof Error ? err : new Error(String(err));
      this.#abort();
    }
  }
}

/**
 * A leftover socket file from a crashed run blocks bind(): remove it only when a probe
 * connect is refused (src/adapter-kit/stale-unix-socket.ts judges; anything else fails the listen).
 */
async function removeStaleUnixSocket(addr: Addr & { transport: "unix" }): Promise<void> {
  const { path } = addr;
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) return; // not ours to delete; bind will report EADDRINUSE
  const probe = await new Promise<{ code: string; detail?: string }>((resolve) => {
    const socket = net.connect({ path });
    socket.on("connect", () => {
      socket.destroy();
      resolve({ code: "connected" });
    });
    socket.on("error", (err: ErrnoError) => resolve({ code: err.code ?? "EUNKNOWN", detail: rawDetail(err) }));
  });
  const verdict = judgeStaleUnixSocket(probe.code);
  if (!verdict.unlink) throw new ListenError(addr, verdict.code, probe.detail);
  try {
    unlinkSync(path);
  } catch {
    // gone already: bind reports what remains
  }
}

/** server.listen({ reusePort }) arrived in Node 22.12 and 23.1; Node 20 has no SO_REUSEPORT. */
const NODE_HAS_REUSE_PORT = (() => {
  const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
  return major > 22 || (major === 22 && minor >= 12);
})();

async function listen(opts: ListenOptions, handler: ConnHandler): Promise<Listener> {
  const { addr } = opts;
  const highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  const unixPath = addr.transport === "unix" ? addr.path : undefined;
  if (addr.transport === "unix") await removeStaleUnixSocket(addr);

  const reusePort = opts.reusePort === true && addr.transport === "tcp" && NODE_HAS_REUSE_PORT;
  const tlsServer = opts.tls && addr.transport === "tcp" ? new NodeTlsServer(opts.tls) : undefined;
  /** Every connection's local address, when the listener is bound to one address (set once bound). */
  // deno-lint-ignore prefer-const
  let fixedLocal: Addr | undefined;
  const server = net.createServer({ allowHalfOpen: true, highWaterMark: READ_AHEAD }, (socket) => {
    if (!tlsServer) return new NodeConn(socket, unixPath, handler, highWaterMark, fixedLocal).attach();
    // Opened at TCP accept: the handshake runs inside the connection's life (DESIGN.md §7).
    // The TLS socket reads ahead as far as the TCP one; the write bound is judged by NodeConn.
    const wrapped = tlsServer.wrap(socket, READ_AHEAD);
    const conn = new NodeConn(wrapped.socket, undefined, handler, highWaterMark, fixedLocal);
    conn.tls = wrapped.state;
    conn.tls.onEstablished = () => conn.tlsEstablished();
    conn.raw = socket;
    conn.attach();
  });
  await new Promise<void>((resolve, reject) => {
    const onListenError = (err: ErrnoError) => {
      reject(new ListenError(addr, listenCode(addr, err), rawDetail(err)));
    };
    server.once("error", onListenError);
    const done = () => {
      server.off("error", onListenError);
      resolve();
    };
    if (addr.transport === "unix") server.listen({ path: addr.path }, done);
    else {server.listen(
        { host: addr.hostname, port: addr.port, ipv6Only: false, ...(reusePort ? { reusePort } : {}) },
        done,
      );}
  });
  // After listening, errors come from accept (EMFILE, ENFILE). libuv already avoids a
  // busy loop on EMFILE (it sheds the pending connection with a reserved descriptor);
  // the listener must just never let the error reach the process.
  server.on("error", (err) => opts.onAcceptError?.(connError(err)));

  const bound = server.address();
  const boundAddr: Addr = typeof bound === "object" && bound !== null
    ? { transport: "tcp", hostname: bound.address, port: bound.port }
    : addr;
  fixedLocal = acceptedLocal(boundAddr);
  return {
    addr: boundAddr,
    reusePort,
    ...(tlsServer ? { reloadTls: (t: Parameters<NodeTlsServer["reload"]>[0]) => tlsServer.reload(t) } : {}),
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        // server.close() stops listening at once but its callback waits for every
        // connection to end; the contract only promises the port is free.
        server.close();
        setImmediate(resolve);
      }),
  };
}

function connect(opts: ConnectOptions, handler: ConnHandler): Promise<Conn> {
  const { addr } = opts;
  const highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  if (opts.tls && addr.transport === "tcp") return connectTls(opts, addr, opts.tls, handler);
  return new Promise<Conn>((resolve, reject) => {
    const socket = addr.transport === "unix"
      ? net.connect(
        { path: addr.path, allowHalfOpen: true, writableHighWaterMark: highWaterMark } as net.NetConnectOpts,
      )
      : net.connect(
        {
          host: addr.hostname,
          port: addr.port,
          allowHalfOpen: true,
          writableHighWaterMark: highWaterMark,
        } as net.NetConnectOpts,
      );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fail = (err: ConnectError) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error) => fail(new ConnectError(addr, nodeNetCode(err), rawDetail(err)));
    socket.once("error", onError);
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(
        () => fail(new ConnectError(addr, "ETIMEDOUT", `timed out after ${opts.timeoutMs} ms`)),
        opts.timeoutMs,
      );
    }
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", onError);
      const conn = new NodeConn(socket, addr.transport === "unix" ? addr.path : undefined, handler, highWaterMark);
      conn.attach();
      resolve(conn);
    });
  });
}

/** connect() over TLS: resolves after the handshake and the server's certificate passed. */
function connectTls(
  opts: ConnectOptions,
  addr: Addr & { transport: "tcp" },
  t: NonNullable<ConnectOptions["tls"]>,
  handler: ConnHandler,
): Promise<Conn> {
  const highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  handler = judgeClientCertRefusal(handler, t);
  return new Promise<Conn>((resolve, reject) => {
    // Our own TCP socket under the TLS one: abort() resets it (a TLSSocket has no TCP handle).
    // Handed over unconnected, it stays a JS stream whose write errors are reported (tls-carrier.ts).
    const raw = new TlsCarrier();
    const socket = tls.connect(
      { ...clientOptions(addr, t), socket: raw, allowHalfOpen: true, highWaterMark } as tls.ConnectionOptions,
    );
    raw.connect({ host: addr.hostname, port: addr.port });
    let timer: ReturnType<typeof setTimeout> | undefined;
    let tcpUp = false;
    const fail = (err: ConnectError) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    raw.once("connect", () => tcpUp = true);
    raw.on("error", (err) => socket.destroy(err)); // a refused connect (or a reset) reaches the TLS socket
    const onError = (err: Error) =>
      fail(tcpUp ? tlsConnectError(addr, t, err) : new ConnectError(addr, nodeNetCode(err), rawDetail(err)));
    socket.once("error", onError);
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(
        () => fail(new ConnectError(addr, "ETIMEDOUT", `timed out after ${opts.timeoutMs} ms`)),
        opts.timeoutMs,
      );
    }
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      socket.off("error", onError);
      const conn = new NodeConn(socket, undefined, handler, highWaterMark);
      conn.raw = raw;
      conn.tls = new NodeTlsState();
      conn.tls.established = true;
      conn.tls.alpn = typeof socket.alpnProtocol === "string" ? socket.alpnProtocol : undefined;
      conn.attach();
      resolve(conn);
    });
  });
}

export const nodeTransport: Transport = { runtime: "node", listen, connect, tlsSupport: NODE_TLS_SUPPORT };
