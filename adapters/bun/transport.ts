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
//    an error-less `close`: we drop the `end` and report ECONNRESET (the errno is lost;
//    the contract reports EPIPE as ECONNRESET anyway, see src/net-errors.ts);
//  - a stale unix socket file makes Bun.listen fail with EADDRINUSE: removed first;
//  - on EMFILE Bun retries accept() in a busy loop and reports nothing: see AcceptGuard.
//
// Where each lives: conn.ts (the connection: queue, half-close, close/end ordering,
// reset detection), accept-guard.ts (EMFILE), stale-unix-socket.ts, errors.ts (codes);
// this file listens and connects.

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
  type Transport,
} from "../../src/transport.ts";
import { acceptedLocal } from "../../src/addr.ts";
import { AcceptGuard } from "./accept-guard.ts";
import { bunApi as bun, type BunTcpListener } from "./bun-types.ts";
import { BunConn, type SocketData, socketHandlers } from "./conn.ts";
import { bunNetCode, rawDetail } from "./errors.ts";
import { removeStaleUnixSocket } from "./stale-unix-socket.ts";
import { judgeClientCertRefusal } from "../../src/adapter-kit/tls-client-refusal.ts";
import { BUN_TLS_SUPPORT, BunTlsState, clientTls, serverHandshake, serverTls, tlsConnectError } from "./tls.ts";

async function listen(opts: ListenOptions, handler: ConnHandler): Promise<Listener> {
  const { addr } = opts;
  const highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  const unixPath = addr.transport === "unix" ? addr.path : undefined;
  if (addr.transport === "unix") await removeStaleUnixSocket(addr);

  // Assigned once, after the listener exists; declared first for the accept callback.
  // deno-lint-ignore prefer-const
  let guard: AcceptGuard | undefined;
  /** Every connection's local address, when the listener is bound to one address (set once bound). */
  let fixedLocal: Addr | undefined;
  const tlsOpts = addr.transport === "tcp" ? opts.tls : undefined;
  const handlers = socketHandlers((socket) => {
    const conn = new BunConn(socket, handler, highWaterMark, unixPath, fixedLocal);
    if (tlsOpts) conn.tls = new BunTlsState(); // opened at TCP accept, before the handshake
    socket.data = conn;
    conn.onOpen();
    guard?.afterAccept();
  });
  if (tlsOpts) {
    handlers.handshake = (s, ok, err) => serverHandshake(s, s.data?.tls, tlsOpts, ok, err, (e) => s.data?.noteError(e));
  }

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
        ...(tlsOpts ? { tls: serverTls(tlsOpts) } : {}),
        socket: handlers,
      });

  let server: BunTcpListener | undefined;
  try {
    server = start();
  } catch (err) {
    throw new ListenError(addr, bunNetCode(err), rawDetail(err));
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
    if (out.address !== undefined) fixedLocal = acceptedLocal(boundAddr); // not a hostname we were given
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
    reusePort: opts.reusePort === true && addr.transport === "tcp" && process.platform === "linux",
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
  // A reset before any reply after presenting a client certificate: the server refused it.
  if (addr.transport === "tcp") handler = judgeClientCertRefusal(handler, opts.tls);
  return new Promise<Conn>((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fail = (err: ConnectError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err);
    };
    const failWith = (err: unknown) => fail(new ConnectError(addr, bunNetCode(err), rawDetail(err)));
    const tls = addr.transport === "tcp" ? opts.tls : undefined;
    const established = (socket: Parameters<Parameters<typeof socketHandlers>[0]>[0]) => {
      if (settled) {
        // Timed out already: drop the late connection without any handler event.
        socket.terminate();
        return;
      }
      settled = true;
      clearTimeout(timer);
      const conn = new BunConn(socket, handler, highWaterMark, unixPath);
      if (tls) {
        conn.tls = new BunTlsState();
        conn.tls.established = true;
        conn.tlsClient = true;
      }
      socket.data = conn;
      conn.onOpen();
      resolve(conn);
    };
    // Over TLS the connection is ours only once the handshake and verification passed.
    const handlers = socketHandlers(tls ? () => {} : established);
    if (tls && addr.transport === "tcp") {
      handlers.handshake = (s, ok, err) => {
        if (ok && (!err || tls.insecure)) return established(s);
        fail(tlsConnectError(addr, tls, err ?? new Error("TLS handshake failed")));
        s.terminate();
      };
      // Closed before the handshake finished (the server hung up on us).
      handlers.close = (s, err) => {
        if (s.data) return s.data.onClose(err);
        fail(tlsConnectError(addr, tls, err ?? new Error("the server closed the connection during the TLS handshake")));
      };
    }
    handlers.connectError = (_s, err) => failWith(err);
    try {
      const pending = addr.transport === "unix"
        ? bun().connect<SocketData>({ unix: addr.path, allowHalfOpen: true, socket: handlers })
        : bun().connect<SocketData>({
          hostname: addr.hostname,
          port: addr.port,
          allowHalfOpen: true,
          ...(tls ? { tls: clientTls(addr, tls) } : {}),
          socket: handlers,
        });
      pending.then(undefined, failWith);
    } catch (err) {
      failWith(err);
      return;
    }
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(
        () => fail(new ConnectError(addr, "ETIMEDOUT", `timed out after ${opts.timeoutMs} ms`)),
        opts.timeoutMs,
      );
    }
  });
}

/**
 * Frames under 1 KiB come out of a received chunk as copies (ByteQueue's `copyBelow`): a
 * chunk this small is a JavaScriptCore array with its bytes inline, and a view of it first
 * moves them into an ArrayBuffer of their own (1.23x the CPU of plain echo for lp:u32 echo
 * with views, 1.08x with copies; decision 145).
 */
const COPY_FRAMES_BELOW = 1024;

export const bunTransport: Transport = {
  runtime: "bun",
  listen,
  connect,
  tlsSupport: BUN_TLS_SUPPORT,
  copyFramesBelow: COPY_FRAMES_BELOW,
};
