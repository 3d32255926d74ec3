// Transport over Deno.listen / Deno.connect.
//
// Deno's socket API is pull-style (promise-returning read/write), the contract is
// push-style, so each connection runs a read loop and a writer loop (conn.ts). Every
// promise the loops await is caught: a reset, broken pipe or a closed resource ends only
// its own connection (handler.close(conn, err)), never the process.
//
// Deno behaviours absorbed here:
//   - close("abort") cannot force an RST: Deno exposes no SO_LINGER, and dropping a
//     Deno TCP conn shuts its write half down first. The peer therefore reads a FIN
//     (EOF), not ECONNRESET; an RST follows only if unread data was left in our receive
//     buffer, or when the peer writes to the closed socket. The queue is still dropped
//     and the socket released at once. (conn.ts)
//   - reusePort needs --unstable-net; asking for it without that flag makes Deno end
//     the process (exit 70). We pass it only when the unstable net API is present and
//     otherwise ignore it, like the Node adapter (a second process then gets EADDRINUSE).
//   - setKeepAlive has no initial-delay parameter in Deno; the delay is ignored. (conn.ts)
//   - Listener.close(): the port is released only once the pending accept() has
//     rejected, so close() waits for the accept loop to finish. (accept-loop.ts)
//   - The accepted end of a unix connection has no path (null); both ends report the
//     listening path, as the Node adapter does. (conn.ts)
//   - accept() rejects (ENOTCONN) for a peer that reset while queued. Such per-connection
//     errors are skipped at once; only resource errors (EMFILE, ...) are reported and
//     backed off, or a reset storm would stall the listener. (accept-loop.ts)
//   - Deno's setNoDelay/setKeepAlive exist on TCP conns only: no-ops for unix sockets. (conn.ts)
//
//   - connect to port 0 throws a RangeError before any syscall: reported as the
//     ECONNREFUSED Linux gives Node and Bun. Every other error is mapped to the contract's
//     codes in errors.ts ("Broken pipe (os error 32)" is ECONNRESET, as everywhere).
//
// Also here: stale-unix-socket.ts (a leftover socket file), errors.ts (error codes).

import {
  type Addr,
  type Conn,
  ConnectError,
  type ConnectOptions,
  type ConnHandler,
  DEFAULT_HIGH_WATER_MARK,
  type Listener,
  ListenError,
  type ListenOptions,
  TlsConfigError,
  type Transport,
} from "../../src/transport.ts";
import { AcceptLoop } from "./accept-loop.ts";
import { DenoConnImpl } from "./conn.ts";
import { deno, type DenoConn, type DenoListener } from "./deno-types.ts";
import { denoNetCode, permissionHint, rawDetail } from "./errors.ts";
import { removeStaleUnixSocket } from "./stale-unix-socket.ts";
import { judgeClientCertRefusal } from "../../src/adapter-kit/tls-client-refusal.ts";
import { clientHandshake, DENO_TLS_SUPPORT, listenTls, watchHandshake } from "./tls.ts";

/** Deno only lets reusePort through with --unstable-net; listenDatagram is gated by the same flag. */
function unstableNetAvailable(): boolean {
  return typeof deno().listenDatagram === "function";
}

async function listen(opts: ListenOptions, handler: ConnHandler): Promise<Listener> {
  const D = deno();
  const { addr } = opts;
  const highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  const unixPath = addr.transport === "unix" ? addr.path : undefined;
  if (addr.transport === "unix") await removeStaleUnixSocket(addr);

  let listener: DenoListener;
  const reusePort = opts.reusePort === true && addr.transport === "tcp" && D.build.os === "linux" &&
    unstableNetAvailable();
  try {
    if (addr.transport === "unix") {
      listener = D.listen({ transport: "unix", path: addr.path });
    } else if (opts.tls) {
      listener = listenTls(addr, opts.tls, reusePort); // SO_REUSEPORT too (--unstable-net): serve --workers
    } else {
      listener = D.listen({
        transport: "tcp",
        hostname: addr.hostname,
        port: addr.port,
        ...(reusePort ? { reusePort: true } : {}),
      });
    }
  } catch (err) {
    if (err instanceof TlsConfigError) throw err;
    throw new ListenError(addr, denoNetCode(err), rawDetail(err), permissionHint(err));
  }

  const la = listener.addr;
  const boundAddr: Addr = "path" in la ? addr : { transport: "tcp", hostname: la.hostname, port: la.port };

  const accepting = new AcceptLoop(
    listener,
    (c) => {
      const conn = new DenoConnImpl(c, unixPath, handler, highWaterMark);
      if (opts.tls && addr.transport === "tcp") conn.tls = watchHandshake(c);
      conn.start();
    },
    opts.onAcceptError,
  );
  return { addr: boundAddr, reusePort, close: () => accepting.close() };
}

async function connect(opts: ConnectOptions, handler: ConnHandler): Promise<Conn> {
  const D = deno();
  const { addr } = opts;
  const highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  // Deno refuses port 0 itself (RangeError "Invalid port") before any syscall; the kernel,
  // asked by Node and Bun, answers ECONNREFUSED on Linux: report what it would.
  if (addr.transport === "tcp" && addr.port === 0) throw new ConnectError(addr, "ECONNREFUSED");
  const controller = opts.timeoutMs !== undefined && addr.transport === "tcp" ? new AbortController() : undefined;
  const tls = addr.transport === "tcp" ? opts.tls : undefined;
  handler = judgeClientCertRefusal(handler, tls); // a reset before any reply: our certificate was refused
  const attempt = addr.transport === "unix"
    ? D.connect({ transport: "unix", path: addr.path })
    : tls?.cert !== undefined
    ? clientHandshake(addr, tls, undefined) // Deno.connectTls: startTls takes no client certificate
    : tls !== undefined
    ? D.connect({ transport: "tcp", hostname: addr.hostname, port: addr.port, signal: controller?.signal })
      .then((c) => clientHandshake(addr, tls, c))
    : D.connect({ transport: "tcp", hostname: addr.hostname, port: addr.port, signal: controller?.signal });

  const fail = (err: unknown): Error =>
    err instanceof ConnectError || err instanceof TlsConfigError
      ? err
      : new ConnectError(addr, denoNetCode(err), rawDetail(err), permissionHint(err));

  let denoConn: DenoConn;
  if (opts.timeoutMs === undefined) {
    try {
      denoConn = await attempt;
    } catch (err) {
      throw fail(err);
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
      throw fail(err);
    } finally {
      clearTimeout(timer);
    }
    if (result === "timeout") {
      controller?.abort();
      // If the attempt still completes (unix, or a race with the abort), close it.
      attempt.then((c) => c.close(), () => {});
      throw new ConnectError(addr, "ETIMEDOUT", `timed out after ${opts.timeoutMs} ms`);
    }
    denoConn = result;
  }

  const conn = new DenoConnImpl(denoConn, addr.transport === "unix" ? addr.path : undefined, handler, highWaterMark);
  if (tls) conn.tls = { established: true, alpn: undefined, client: true };
  conn.start();
  return conn;
}

export const denoTransport: Transport = { runtime: "deno", listen, connect, tlsSupport: DENO_TLS_SUPPORT };
