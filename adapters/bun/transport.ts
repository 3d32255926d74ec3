// Transport over Bun.listen / Bun.connect.
//
// Bun's socket API is thin: socket.write() hands bytes straight to the kernel and returns
// how many it took, nothing more; the rest is the caller's problem. This adapter keeps
// an ordered per-connection queue of the remainder and flushes it from Bun's `drain`
// callback, and absorbs the other Bun 1.4.5 behaviours that differ from the contract
// (verified by experiment; see also bun-types.ts):
//  - sockets are opened with allowHalfOpen, else a peer FIN closes both directions;
//  - socket.end() is a full close(2), even with allowHalfOpen: half-close is
//    socket.shutdown() with NO argument (shutdown(true) is SHUT_RD in 1.4.5);
//  - once both directions are shut Bun closes the socket itself, and when we shut down
//    first the peer's FIN arrives as `close` with no `end`: we report the `end`;
//  - end(), terminate() and shutdown() may fire `close` synchronously: the close event is
//    then handed to the handler from a microtask, after the caller's code has returned;
//  - a write to a reset connection returns -1, after which Bun reports a bogus `end` and
//    an error-less `close`: we drop the `end` and report EPIPE;
//  - a stale unix socket file makes Bun.listen fail with EADDRINUSE: removed first;
//  - on EMFILE Bun retries accept() in a busy loop and reports nothing: see AcceptGuard.

import { closeSync, lstatSync, openSync, readFileSync, unlinkSync } from "node:fs";
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
import { formatAddr } from "../../src/addr.ts";
import { parseOpenFileLimit } from "../../src/fd-limit.ts";
import { bunApi as bun, type BunSocket, type BunSocketHandler, type BunSysError, type BunTcpListener } from "./bun-types.ts";

const ERRNO_TEXT: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  ENOENT: "no such file or directory",
  ENOTFOUND: "host not found",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EMFILE: "too many open files",
  ENFILE: "too many open files in system",
  EINVAL: "invalid argument",
};

function errCode(err: unknown): string {
  const code = (err as BunSysError | undefined)?.code;
  return typeof code === "string" && code !== "" ? code : "EUNKNOWN";
}

function describe(err: unknown): string {
  const code = errCode(err);
  const text = ERRNO_TEXT[code] ?? (err instanceof Error ? err.message : String(err));
  return code === "EUNKNOWN" ? text : `${text} (${code})`;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

// Every live connection of this process (accepted and connected): the accept guard
// compares it with the open-file limit.
let liveConns = 0;

/** Writes below this size are merged with their queued successors before a flush. */
const COALESCE_BELOW = 16 * 1024;
const COALESCE_MAX = 64 * 1024;
const EMPTY = new Uint8Array(0);

class BunConn implements Conn {
  readonly id = allocateConnId();
  readonly remote: Addr;
  readonly local: Addr;

  readonly #socket: BunSocket<BunConn | undefined>;
  readonly #handler: ConnHandler;
  readonly #hwm: number;

  // Outbound queue: what the kernel has not taken yet, in order, from #head on.
  #queue: Uint8Array[] = [];
  #head = 0;
  #queued = 0;
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

  // Inbound: data Bun delivered after pause() (if it ever does) waits here.
  #paused = false;
  #stash: Uint8Array[] = [];
  #stashedEnd = false;
  #stashScheduled = false;

  /** >0 while we are inside a Bun call that may fire `close` synchronously. */
  #depth = 0;

  constructor(socket: BunSocket<BunConn | undefined>, handler: ConnHandler, hwm: number, unixPath: string | undefined) {
    this.#socket = socket;
    this.#handler = handler;
    this.#hwm = hwm;
    if (unixPath !== undefined) {
      this.remote = { transport: "unix", path: unixPath };
      this.local = { transport: "unix", path: unixPath };
    } else {
      this.remote = { transport: "tcp", hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
      this.local = { transport: "tcp", hostname: socket.localAddress ?? "", port: socket.localPort ?? 0 };
    }
    liveConns++;
  }

  get queued(): number {
    return this.#queued;
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(bytes: Uint8Array): boolean {
    if (this.#ended || this.#closed) return false;
    if (bytes.length > 0) {
      if (this.#queued === 0) {
        const n = this.#write(bytes);
        if (this.#closed) return false;
        if (n < bytes.length) this.#push(n > 0 ? bytes.subarray(n) : bytes);
      } else {
        this.#push(bytes);
      }
    }
    if (this.#queued < this.#hwm) return true;
    this.#needDrain = true;
    // Only with highWaterMark 0 can the queue be empty here: Node still emits 'drain'.
    if (this.#queued === 0) this.#scheduleDrain();
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
    if (this.#queued === 0) this.#shutdown();
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
    if (this.#queued === 0) this.#finishClose();
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
    if (this.#closed) return;
    if (this.#paused || this.#stash.length > 0) {
      this.#stash.push(chunk);
      return;
    }
    this.#call(() => this.#handler.data(this, chunk));
  }

  onEnd(): void {
    if (this.#closed || this.#peerEnded || this.#broken) return;
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
    this.#error ??= err;
  }

  onClose(err?: BunSysError): void {
    if (this.#closed) return;
    this.#closed = true;
    liveConns--;
    if (err) this.#error ??= err;
    this.#queue = [];
    this.#head = 0;
    this.#queued = 0;
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
   * socket.write(); -1 means Bun found the connection broken (EPIPE, ECONNRESET). Bun then
   * reports `end` and a `close` with no error (the errno is lost): supply an error and
   * drop that `end`, or the reset would pass for a clean FIN.
   */
  #write(bytes: Uint8Array): number {
    const n = this.#sys(() => this.#socket.write(bytes));
    if (n < 0 && !this.#localClose) {
      this.#broken = true;
      const err: BunSysError = new Error("write failed: the connection was reset or closed by the peer (EPIPE)");
      err.code = "EPIPE";
      this.#error ??= err;
    }
    return n;
  }

  #push(bytes: Uint8Array): void {
    this.#queue.push(bytes);
    this.#queued += bytes.length;
  }

  #flush(): void {
    const q = this.#queue;
    while (this.#head < q.length) {
      const chunk = this.#nextChunk();
      const n = this.#write(chunk);
      if (this.#closed) return;
      if (n <= 0) return; // the kernel is full: Bun calls drain again when it is writable
      this.#queued -= n;
      if (n < chunk.length) {
        q[this.#head] = chunk.subarray(n);
        if (this.#head > 1024 && this.#head * 2 > q.length) {
          q.splice(0, this.#head);
          this.#head = 0;
        }
        return;
      }
      q[this.#head++] = EMPTY;
    }
    this.#queue = [];
    this.#head = 0;
    this.#afterFlush();
  }

  /** The next piece to hand to the kernel; small queued writes are merged into one. */
  #nextChunk(): Uint8Array {
    const q = this.#queue;
    const first = q[this.#head]!;
    if (first.length >= COALESCE_BELOW || this.#head + 1 >= q.length) return first;
    let total = 0;
    let end = this.#head;
    while (end < q.length && total + q[end]!.length <= COALESCE_MAX) total += q[end++]!.length;
    if (end - this.#head < 2) return first;
    const merged = new Uint8Array(total);
    let at = 0;
    for (let i = this.#head; i < end; i++) {
      merged.set(q[i]!, at);
      at += q[i]!.length;
      q[i] = EMPTY;
    }
    this.#head = end - 1;
    q[this.#head] = merged;
    return merged;
  }

  /** The queue just became empty. */
  #afterFlush(): void {
    if (this.#closeWhenFlushed) {
      this.#finishClose();
      return;
    }
    if (this.#ended && !this.#shutdownSent) this.#shutdown();
    if (this.#needDrain && !this.#closed) {
      this.#needDrain = false;
      if (this.#handler.drain) this.#call(() => this.#handler.drain!(this));
    }
  }

  #scheduleDrain(): void {
    if (this.#drainTimer !== undefined) return;
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      if (!this.#closed && this.#queued === 0) this.#afterFlush();
    }, 0);
  }

  #shutdown(): void {
    if (this.#shutdownSent || this.#closed) return;
    this.#shutdownSent = true;
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
    this.#queue = [];
    this.#head = 0;
    this.#queued = 0;
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
    while (this.#stash.length > 0 && (force || (!this.#paused && !this.#closed))) {
      const chunk = this.#stash.shift()!;
      this.#call(() => this.#handler.data(this, chunk));
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

type SocketData = BunConn | undefined;

/** One Bun handler object per listener / connect: routes every event to its BunConn. */
function socketHandlers(onOpen: (socket: BunSocket<SocketData>) => void): BunSocketHandler<SocketData> {
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

// ---- accept guard ----

let fdLimitCache: number | undefined | null = null;
function fdLimit(): number | undefined {
  if (fdLimitCache === null) {
    try {
      fdLimitCache = parseOpenFileLimit(readFileSync("/proc/self/limits", "utf8"));
    } catch {
      fdLimitCache = undefined;
    }
  }
  return fdLimitCache;
}

/**
 * Can the process open `n` more descriptors at once? Opening them is the only honest
 * test. Returns the EMFILE/ENFILE error when it cannot.
 */
function fdShortage(n: number): BunSysError | undefined {
  const fds: number[] = [];
  try {
    while (fds.length < n) fds.push(openSync("/dev/null", "r"));
    return undefined;
  } catch (err) {
    const code = errCode(err);
    return code === "EMFILE" || code === "ENFILE" ? (err as BunSysError) : undefined;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/**
 * Bun 1.4.5 retries a failing accept() (EMFILE, ENFILE) in a busy loop and tells no one.
 * The guard notices the process is out of descriptors (after an accept that leaves few,
 * and every 250 ms), closes the listening socket so the loop stops, reports the error,
 * and listens again on the same address once descriptors are free (checking from 50 ms
 * up to every 1 s). While backed off, new connections are refused instead of queued.
 */
class AcceptGuard {
  #timer: ReturnType<typeof setInterval> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #delay = 50;
  #stopped = false;

  constructor(
    private readonly pauseListening: () => void,
    private readonly resumeListening: () => void, // throws when it cannot listen
    private readonly onAcceptError: ((err: Error) => void) | undefined,
  ) {
    this.#timer = setInterval(() => this.check(), 250);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** After each accept: cheap unless the process is near its descriptor limit. */
  afterAccept(): void {
    const limit = fdLimit();
    if (limit !== undefined && liveConns + 64 >= limit) this.check();
  }

  /** Out of descriptors: Bun's accept loop would spin now (or at the next connection). */
  check(): void {
    if (this.#stopped || this.#retry !== undefined) return;
    const err = fdShortage(1);
    if (!err) return;
    this.pauseListening();
    this.#report(err);
    this.#delay = 50;
    this.#scheduleRetry();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  #scheduleRetry(): void {
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#stopped) return;
      // Room for the listening socket itself plus at least one accepted connection;
      // with only the former, listening again would start the busy loop at once.
      if (!fdShortage(2)) {
        try {
          this.resumeListening();
          return;
        } catch (err) {
          this.#report(asError(err));
        }
      }
      this.#delay = Math.min(this.#delay * 2, 1000);
      this.#scheduleRetry();
    }, this.#delay); // not unref'd: a backed-off listener must keep the process alive
  }

  #report(err: Error): void {
    try {
      this.onAcceptError?.(err);
    } catch {
      // a throwing callback must not stop the listener
    }
  }
}

// ---- listen / connect ----

/** A leftover socket file from a crashed run blocks bind(); remove it unless someone listens on it. */
async function removeStaleUnixSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // absent (or unreadable: let bind report it)
  }
  if (!isSocket) return; // not ours to delete; bind will report EADDRINUSE
  const refused = await bun().connect<SocketData>({
    unix: path,
    socket: { open: (s) => s.terminate(), data: () => {}, connectError: () => {} },
  }).then(
    () => false,
    (err: unknown) => errCode(err) === "ECONNREFUSED",
  );
  if (refused) {
    try {
      unlinkSync(path);
    } catch {
      // gone already, or not ours: bind reports what remains
    }
  }
}

async function listen(opts: ListenOptions, handler: ConnHandler): Promise<Listener> {
  const { addr } = opts;
  const highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  const unixPath = addr.transport === "unix" ? addr.path : undefined;
  if (unixPath !== undefined) await removeStaleUnixSocket(unixPath);

  let guard: AcceptGuard | undefined;
  const handlers = socketHandlers((socket) => {
    const conn = new BunConn(socket, handler, highWaterMark, unixPath);
    socket.data = conn;
    conn.onOpen();
    guard?.afterAccept();
  });

  // After an EMFILE back-off, listen again on the port we were given the first time.
  let port = addr.transport === "tcp" ? addr.port : 0;
  const start = (): BunTcpListener =>
    addr.transport === "unix"
      ? bun().listen<SocketData>({ unix: addr.path, allowHalfOpen: true, socket: handlers })
      : bun().listen<SocketData>({
        hostname: addr.hostname,
        port,
        allowHalfOpen: true,
        ...(opts.reusePort ? { reusePort: true } : {}),
        socket: handlers,
      });

  let server: BunTcpListener | undefined;
  try {
    server = start();
  } catch (err) {
    throw new ListenError(addr, errCode(err), `cannot listen on ${formatAddr(addr)}: ${describe(err)}`);
  }

  let boundAddr: Addr = addr;
  if (addr.transport === "tcp") {
    const out: { address?: string; port?: number } = {};
    try {
      server.getsockname(out);
    } catch {
      // fall back to what Bun reports below
    }
    port = out.port ?? server.port ?? addr.port;
    boundAddr = { transport: "tcp", hostname: out.address ?? addr.hostname, port };
  }

  let closed = false;
  guard = new AcceptGuard(
    () => {
      server?.stop(false);
      server = undefined;
    },
    () => {
      if (closed || server) return;
      server = start();
    },
    opts.onAcceptError,
  );

  return {
    addr: boundAddr,
    close: () => {
      if (!closed) {
        closed = true;
        guard?.stop();
        // stop(false): close the listening socket now; established connections stay.
        server?.stop(false);
        server = undefined;
      }
      return Promise.resolve();
    },
  };
}

function connect(opts: ConnectOptions, handler: ConnHandler): Promise<Conn> {
  const { addr } = opts;
  const highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  const unixPath = addr.transport === "unix" ? addr.path : undefined;
  return new Promise<Conn>((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fail = (code: string, text: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new ConnectError(addr, code, `cannot connect to ${formatAddr(addr)}: ${text}`));
    };
    const handlers = socketHandlers((socket) => {
      if (settled) {
        // Timed out already: drop the late connection without any handler event.
        socket.terminate();
        return;
      }
      settled = true;
      clearTimeout(timer);
      const conn = new BunConn(socket, handler, highWaterMark, unixPath);
      socket.data = conn;
      conn.onOpen();
      resolve(conn);
    });
    handlers.connectError = (_s, err) => fail(errCode(err), describe(err));
    try {
      const pending = addr.transport === "unix"
        ? bun().connect<SocketData>({ unix: addr.path, allowHalfOpen: true, socket: handlers })
        : bun().connect<SocketData>({ hostname: addr.hostname, port: addr.port, allowHalfOpen: true, socket: handlers });
      pending.then(undefined, (err: unknown) => fail(errCode(err), describe(err)));
    } catch (err) {
      fail(errCode(err), describe(err));
      return;
    }
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => fail("ETIMEDOUT", `timed out after ${opts.timeoutMs} ms (ETIMEDOUT)`), opts.timeoutMs);
    }
  });
}

export const bunTransport: Transport = { runtime: "bun", listen, connect };
