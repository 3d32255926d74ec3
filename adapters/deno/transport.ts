// Transport over Deno.listen / Deno.connect.
//
// Deno's socket API is pull-style (promise-returning read/write), the contract is
// push-style, so each connection runs two small loops:
//   - a read loop: conn.read(buf) → handler.data; null (the peer's FIN) → handler.end.
//     Not conn.readable: that stream closes the whole socket at EOF, which breaks
//     half-close, and it costs a promise/stream layer per chunk.
//   - a writer loop: conn.write() may take only part of a buffer, so write() only
//     queues, and one loop hands the queue to the kernel in order, looping on partial
//     writes, then fires drain / sends the FIN (closeWrite) / closes as asked.
// Every promise the loops await is caught: a reset, broken pipe or a closed resource
// ends only its own connection (handler.close(conn, err)), never the process.
//
// Deno behaviours absorbed here:
//   - close("abort") cannot force an RST: Deno exposes no SO_LINGER, and dropping a
//     Deno TCP conn shuts its write half down first. The peer therefore reads a FIN
//     (EOF), not ECONNRESET; an RST follows only if unread data was left in our receive
//     buffer, or when the peer writes to the closed socket. The queue is still dropped
//     and the socket released at once.
//   - reusePort needs --unstable-net; asking for it without that flag makes Deno end
//     the process (exit 70). We pass it only when the unstable net API is present and
//     otherwise ignore it, like the Node adapter (a second process then gets EADDRINUSE).
//   - setKeepAlive has no initial-delay parameter in Deno; the delay is ignored.
//   - Listener.close(): the port is released only once the pending accept() has
//     rejected, so close() waits for the accept loop to finish.
//   - The accepted end of a unix connection has no path (null); both ends report the
//     listening path, as the Node adapter does.
//   - accept() rejects (ENOTCONN) for a peer that reset while queued. Such per-connection
//     errors are skipped at once; only resource errors (EMFILE, ...) are reported and
//     backed off, or a reset storm would stall the listener.
//   - Deno's setNoDelay/setKeepAlive exist on TCP conns only: no-ops for unix sockets.

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
import { deno, type DenoAddr, type DenoConn, type DenoListener } from "./deno-types.ts";

type ErrnoError = Error & { code?: string };

/**
 * First read buffer per connection; it doubles while reads fill it, up to MAX_READ, and
 * shrinks again after small reads. Small so that thousands of idle connections (each
 * with a read pending on its own buffer) stay cheap.
 */
const INITIAL_READ = 4 * 1024;
const MAX_READ = 256 * 1024;
/** Small queued chunks are merged into one write of up to this many bytes. */
const COALESCE_LIMIT = 64 * 1024;
/** Back-off after a resource error from accept (EMFILE, ...): starts here, doubles, capped. */
const ACCEPT_BACKOFF_MIN_MS = 50;
const ACCEPT_BACKOFF_MAX_MS = 100;
/**
 * accept() errors that concern only the one queued connection, which is gone with it;
 * the listener is fine, so accept again at once. Deno reports a peer that reset while
 * waiting in the accept queue as ENOTCONN.
 */
const PEER_ACCEPT_ERRORS = new Set([
  "ECONNABORTED",
  "ECONNRESET",
  "ENOTCONN",
  "EPROTO",
  "EPERM",
  "EINTR",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
  "ENONET",
]);

// Deno error class names → errno-style codes, for errors that arrive without `code`.
const CODE_BY_NAME: Record<string, string> = {
  ConnectionRefused: "ECONNREFUSED",
  ConnectionReset: "ECONNRESET",
  ConnectionAborted: "ECONNABORTED",
  NotConnected: "ENOTCONN",
  AddrInUse: "EADDRINUSE",
  AddrNotAvailable: "EADDRNOTAVAIL",
  BrokenPipe: "EPIPE",
  TimedOut: "ETIMEDOUT",
  NotFound: "ENOENT",
  PermissionDenied: "EACCES",
  NotCapable: "EACCES",
  AlreadyExists: "EEXIST",
  InvalidData: "EINVAL",
  Interrupted: "EINTR",
  BadResource: "EBADF",
  WouldBlock: "EAGAIN",
};

function toError(err: unknown): ErrnoError {
  return err instanceof Error ? err : new Error(String(err));
}

/** The OS-style code of a Deno error: its own `code`, else derived from the class or message. */
function codeOf(err: unknown): string {
  const e = toError(err);
  if (typeof e.code === "string" && e.code !== "") return e.code;
  const byName = CODE_BY_NAME[e.name];
  if (byName !== undefined) return byName;
  if (/failed to lookup address|Name or service not known|No address associated/i.test(e.message)) return "ENOTFOUND";
  const m = /os error (\d+)/.exec(e.message);
  if (m) {
    const errno: Record<string, string> = { "24": "EMFILE", "23": "ENFILE", "103": "ECONNABORTED", "110": "ETIMEDOUT", "113": "EHOSTUNREACH", "101": "ENETUNREACH" };
    if (errno[m[1]!]) return errno[m[1]!]!;
  }
  return "EUNKNOWN";
}

/** The error with a `code` property set (Deno's errors mostly carry one already). */
function withCode(err: unknown): ErrnoError {
  const e = toError(err);
  if (typeof e.code !== "string" || e.code === "") {
    try {
      Object.defineProperty(e, "code", { value: codeOf(e), configurable: true, writable: true });
    } catch {
      // frozen error object: leave it as it is
    }
  }
  return e;
}

function toAddr(a: DenoAddr, unixPath: string | undefined): Addr {
  if (unixPath !== undefined) return { transport: "unix", path: unixPath };
  if ("path" in a) return { transport: "unix", path: a.path ?? "" };
  return { transport: "tcp", hostname: a.hostname, port: a.port };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class DenoConnImpl implements Conn {
  readonly id = allocateConnId();
  readonly remote: Addr;
  readonly local: Addr;

  readonly #conn: DenoConn;
  readonly #handler: ConnHandler;
  readonly #hwm: number;
  readonly #tcp: boolean;

  // Write side. #queue[#qHead..] are the chunks not yet handed to the kernel, in order.
  #queue: Uint8Array[] = [];
  #qHead = 0;
  #queuedBytes = 0;
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

  constructor(conn: DenoConn, unixPath: string | undefined, handler: ConnHandler, highWaterMark: number) {
    this.#conn = conn;
    this.#handler = handler;
    this.#hwm = highWaterMark;
    this.#tcp = unixPath === undefined;
    this.remote = toAddr(conn.remoteAddr, unixPath);
    this.local = toAddr(conn.localAddr, unixPath);
  }

  get queued(): number {
    return this.#queuedBytes;
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(bytes: Uint8Array): boolean {
    if (this.#writeShut || this.#closed) return false;
    if (bytes.length > 0) {
      this.#queue.push(bytes);
      this.#queuedBytes += bytes.length;
      if (!this.#writing) void this.#flush();
    }
    if (this.#queuedBytes >= this.#hwm) {
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
    if (this.#writeShut || this.#closed) return;
    this.#writeShut = true;
    if (!this.#writing) void this.#sendFin();
  }

  close(mode: "graceful" | "abort" = "graceful"): void {
    if (this.#closed) return;
    if (mode === "abort") {
      this.#finish(undefined);
      return;
    }
    this.#writeShut = true;
    this.#closeWhenFlushed = true;
    if (this.#finSent) this.#finish(undefined);
    else if (!this.#writing) void this.#sendFin(); // if a FIN is already on its way, its completion closes
  }

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
        this.#fail(err);
        return;
      }
      // A read already in flight when pause() was called: hold its result until resume().
      while (this.#paused && !this.#closed) await this.#waitResume();
      if (this.#closed) return;
      if (n === null) {
        this.#onEof();
        return;
      }
      if (n === 0) continue;
      let chunk: Uint8Array;
      if (n === buf.length) {
        // Full read: hand the whole buffer over (no copy) and read bigger next time.
        chunk = buf;
        if (size < MAX_READ) size *= 2;
        buf = new Uint8Array(size);
      } else if (n >= buf.length >>> 1) {
        chunk = buf.subarray(0, n);
        buf = new Uint8Array(size);
      } else {
        chunk = buf.slice(0, n); // small read: copy, keep the buffer...
        if (size > INITIAL_READ) {
          // ...unless a burst had grown it: an idle connection holds its read buffer
          // for as long as its read is pending, so shrink back to fit the traffic.
          size = Math.max(INITIAL_READ, 2 ** Math.ceil(Math.log2(n + 1)));
          buf = new Uint8Array(size);
        }
      }
      this.#call(() => this.#handler.data(this, chunk));
    }
  }

  #onEof(): void {
    this.#readEof = true;
    const h = this.#handler;
    if (h.end) this.#call(() => h.end!(this));
    else this.end();
    this.#maybeFinish();
  }

  // ---- write side ----

  /** Take the next chunk to write, merging small queued chunks into one buffer. */
  #head(): Uint8Array {
    const q = this.#queue;
    const first = q[this.#qHead]!;
    if (first.length >= COALESCE_LIMIT || q.length - this.#qHead < 2) return first;
    let total = 0;
    let end = this.#qHead;
    while (end < q.length && total + q[end]!.length <= COALESCE_LIMIT) total += q[end++]!.length;
    if (end - this.#qHead < 2) return first;
    const merged = new Uint8Array(total);
    let off = 0;
    for (let i = this.#qHead; i < end; i++) {
      merged.set(q[i]!, off);
      off += q[i]!.length;
    }
    // Replace the merged run by the single buffer (and drop references to its parts).
    for (let i = this.#qHead; i < end - 1; i++) q[i] = undefined as unknown as Uint8Array;
    this.#qHead = end - 1;
    q[this.#qHead] = merged;
    return merged;
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#qHead < this.#queue.length) {
        const head = this.#head();
        let n: number;
        try {
          n = await this.#conn.write(head);
        } catch (err) {
          this.#fail(err);
          return;
        }
        if (this.#closed) return;
        this.#queuedBytes -= n;
        if (n >= head.length) {
          this.#queue[this.#qHead++] = undefined as unknown as Uint8Array; // let it be collected
          if (this.#qHead === this.#queue.length) {
            this.#queue = [];
            this.#qHead = 0;
          } else if (this.#qHead >= 1024 && this.#qHead * 2 >= this.#queue.length) {
            this.#queue = this.#queue.slice(this.#qHead);
            this.#qHead = 0;
          }
        } else {
          this.#queue[this.#qHead] = head.subarray(n);
        }
      }
    } finally {
      this.#writing = false;
    }
    if (this.#closed) return;
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

  #fail(err: unknown): void {
    if (this.#closed) return; // errors of ops cancelled by our own close()
    this.#finish(withCode(err));
  }

  /** Close the socket and fire handler.close, exactly once. */
  #finish(err: ErrnoError | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error ??= err;
    this.#queue = [];
    this.#qHead = 0;
    this.#queuedBytes = 0;
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

/** A leftover socket file from a crashed run blocks bind(); remove it unless someone listens on it. */
async function removeStaleUnixSocket(path: string): Promise<void> {
  const D = deno();
  try {
    if (D.lstatSync(path).isSocket !== true) return; // not ours to delete; bind reports EADDRINUSE
  } catch {
    return; // does not exist (or cannot be inspected): let listen report it
  }
  try {
    const probe = await D.connect({ transport: "unix", path });
    probe.close();
    return; // someone is listening: listen() will fail with EADDRINUSE
  } catch (err) {
    // ECONNREFUSED: nobody listens. (Other errors, e.g. EACCES, let listen() speak.)
    if (codeOf(err) !== "ECONNREFUSED") return;
  }
  try {
    D.removeSync(path);
  } catch {
    // raced with someone else removing it
  }
}

/** Deno only lets reusePort through with --unstable-net; listenDatagram is gated by the same flag. */
function unstableNetAvailable(): boolean {
  return typeof deno().listenDatagram === "function";
}

async function listen(opts: ListenOptions, handler: ConnHandler): Promise<Listener> {
  const D = deno();
  const { addr } = opts;
  const highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  const unixPath = addr.transport === "unix" ? addr.path : undefined;
  if (unixPath !== undefined) await removeStaleUnixSocket(unixPath);

  let listener: DenoListener;
  try {
    if (addr.transport === "unix") {
      listener = D.listen({ transport: "unix", path: addr.path });
    } else {
      const reusePort = opts.reusePort === true && D.build.os === "linux" && unstableNetAvailable();
      listener = D.listen({
        transport: "tcp",
        hostname: addr.hostname,
        port: addr.port,
        ...(reusePort ? { reusePort: true } : {}),
      });
    }
  } catch (err) {
    const e = toError(err);
    throw new ListenError(addr, codeOf(e), `cannot listen on ${formatAddr(addr)}: ${e.message}`);
  }

  const la = listener.addr;
  const boundAddr: Addr = "path" in la ? addr : { transport: "tcp", hostname: la.hostname, port: la.port };

  let stopped = false;
  let wakeBackoff: (() => void) | undefined;

  const acceptLoop = (async () => {
    let backoff = ACCEPT_BACKOFF_MIN_MS;
    let peerErrors = 0;
    while (!stopped) {
      let c: DenoConn;
      try {
        c = await listener.accept();
      } catch (err) {
        if (stopped) break;
        const e = withCode(err);
        if (e.name === "BadResource") break; // the listener itself is gone
        if (PEER_ACCEPT_ERRORS.has(e.code!)) {
          // One queued connection died before we took it (the peer reset, ...): it is
          // gone from the backlog, so accept the next one at once, and do not report
          // it (libuv, under Node, skips these silently too). Every so often yield a
          // macrotask, so even a pathological stream of them cannot hog the loop.
          if (++peerErrors % 64 === 0) await sleep(0);
          continue;
        }
        try {
          opts.onAcceptError?.(e);
        } catch {
          // a throwing reporter must not stop the listener
        }
        // EMFILE and friends: the pending connection stays in the backlog and accept
        // would fail again at once, so wait before trying again (never spin). The wait
        // stays short so the listener recovers quickly once descriptors free up.
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, backoff);
          wakeBackoff = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wakeBackoff = undefined;
        backoff = Math.min(backoff * 2, ACCEPT_BACKOFF_MAX_MS);
        continue;
      }
      backoff = ACCEPT_BACKOFF_MIN_MS;
      peerErrors = 0;
      // A connection the kernel accepted before close() is served like any other.
      try {
        new DenoConnImpl(c, unixPath, handler, highWaterMark).start();
      } catch {
        try {
          c.close();
        } catch {
          // ignore
        }
      }
    }
  })();

  let closing: Promise<void> | undefined;
  return {
    addr: boundAddr,
    close(): Promise<void> {
      closing ??= (async () => {
        stopped = true;
        try {
          listener.close(); // rejects the pending accept; Deno removes a unix socket file itself
        } catch {
          // already closed
        }
        wakeBackoff?.();
        await acceptLoop;
        // The socket is released once the cancelled accept op is dropped: give the
        // event loop a turn so a rebind right after close() succeeds.
        await sleep(0);
      })();
      return closing;
    },
  };
}

async function connect(opts: ConnectOptions, handler: ConnHandler): Promise<Conn> {
  const D = deno();
  const { addr } = opts;
  const highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  const controller = opts.timeoutMs !== undefined && addr.transport === "tcp" ? new AbortController() : undefined;
  const attempt = addr.transport === "unix"
    ? D.connect({ transport: "unix", path: addr.path })
    : D.connect({ transport: "tcp", hostname: addr.hostname, port: addr.port, signal: controller?.signal });

  const fail = (code: string, message: string): ConnectError =>
    new ConnectError(addr, code, `cannot connect to ${formatAddr(addr)}: ${message}`);

  let denoConn: DenoConn;
  if (opts.timeoutMs === undefined) {
    try {
      denoConn = await attempt;
    } catch (err) {
      throw fail(codeOf(err), toError(err).message);
    }
  } else {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), opts.timeoutMs);
    });
    let result: DenoConn | "timeout";
    try {
      result = await Promise.race([attempt, timeout]);
    } catch (err) {
      throw fail(codeOf(err), toError(err).message);
    } finally {
      clearTimeout(timer);
    }
    if (result === "timeout") {
      controller?.abort();
      // If the attempt still completes (unix, or a race with the abort), close it.
      attempt.then((c) => c.close(), () => {});
      throw fail("ETIMEDOUT", `timed out after ${opts.timeoutMs} ms`);
    }
    denoConn = result;
  }

  const conn = new DenoConnImpl(denoConn, addr.transport === "unix" ? addr.path : undefined, handler, highWaterMark);
  conn.start();
  return conn;
}

export const denoTransport: Transport = { runtime: "deno", listen, connect };
