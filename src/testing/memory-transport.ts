// An in-memory Transport, for testing a service (or a client) without sockets: listen and
// connect within one process, on addresses that exist only in this transport's own
// little network. It keeps the contract's semantics (partial delivery, backpressure both
// ways, half-close, graceful and abort close, event order, errors with the contract's
// codes) and passes the conformance suite except where a check needs the OS (see
// docs/architecture.md). Not a network simulator: no latency, no loss, no reordering.

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
} from "../transport.ts";
import { MemoryConn } from "./memory-conn.ts";

export { MEMORY_SOCKET_BUFFER } from "./memory-conn.ts";

/** Ports handed out for port 0, as an OS's ephemeral range does. */
const FIRST_PORT = 49152;
const LAST_PORT = 65535;

interface Bound {
  addr: Addr;
  handler: ConnHandler;
  highWaterMark: number;
}

/** "localhost" is 127.0.0.1 here, as it resolves on the machines we test on. */
function hostOf(hostname: string): string {
  return hostname === "localhost" ? "127.0.0.1" : hostname;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** An IP literal (or localhost): anything else is a name this network cannot resolve. */
function resolvable(host: string): boolean {
  return IPV4.test(host) || host.includes(":");
}

/** The addresses this network's one host has: loopback and the wildcards. */
function local(host: string): boolean {
  return host.startsWith("127.") || host === "::1" || host === "0.0.0.0" || host === "::";
}

/**
 * A new, empty in-memory network with its own listeners and ports. `runtime` is
 * "memory". TCP listeners are keyed by port alone (one listener per port, whatever the
 * host); a connect reaches a listener bound to the dialled host or to a wildcard
 * (0.0.0.0, ::); a connect nobody listens for is refused at once (ECONNREFUSED, even for
 * an address a real network would let time out). Host names other than "localhost" do
 * not resolve (ENOTFOUND); listening works on loopback and wildcard addresses only
 * (EADDRNOTAVAIL). Unix paths are names only: no file is created.
 */
export function memoryTransport(): Transport {
  const tcp = new Map<number, Bound>();
  const unix = new Map<string, Bound>();
  let nextPort = FIRST_PORT;

  const freePort = (): number => {
    for (let i = 0; i <= LAST_PORT - FIRST_PORT; i++) {
      const port = nextPort;
      nextPort = port === LAST_PORT ? FIRST_PORT : port + 1;
      if (!tcp.has(port)) return port;
    }
    return 0;
  };

  const listen = (opts: ListenOptions, handler: ConnHandler): Promise<Listener> => {
    const { addr } = opts;
    const highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    let bound: Addr;
    if (addr.transport === "unix") {
      if (unix.has(addr.path)) return Promise.reject(new ListenError(addr, "EADDRINUSE"));
      bound = addr;
      unix.set(addr.path, { addr: bound, handler, highWaterMark });
    } else {
      if (!Number.isInteger(addr.port) || addr.port < 0 || addr.port > LAST_PORT) {
        return Promise.reject(new ListenError(addr, "EINVAL"));
      }
      const host = hostOf(addr.hostname);
      if (!resolvable(host)) return Promise.reject(new ListenError(addr, "ENOTFOUND"));
      if (!local(host)) return Promise.reject(new ListenError(addr, "EADDRNOTAVAIL"));
      const port = addr.port === 0 ? freePort() : addr.port;
      if (port === 0) return Promise.reject(new ListenError(addr, "EADDRINUSE"));
      if (tcp.has(port)) return Promise.reject(new ListenError(addr, "EADDRINUSE"));
      bound = { transport: "tcp", hostname: host, port };
      tcp.set(port, { addr: bound, handler, highWaterMark });
    }
    let closed = false;
    return Promise.resolve({
      addr: bound,
      reusePort: false,
      close: () => {
        if (!closed) {
          closed = true;
          if (bound.transport === "unix") unix.delete(bound.path);
          else tcp.delete(bound.port);
        }
        return Promise.resolve();
      },
    });
  };

  /** The listener a connect to `addr` reaches, if any. */
  const find = (addr: Addr): Bound | undefined => {
    if (addr.transport === "unix") return unix.get(addr.path);
    const b = tcp.get(addr.port);
    if (!b || b.addr.transport !== "tcp") return undefined;
    const want = hostOf(addr.hostname);
    const have = b.addr.hostname;
    if (have === want) return b;
    const v6 = want.includes(":");
    if (have === "::") return b; // dual-stack wildcard
    if (have === "0.0.0.0" && !v6) return b;
    return undefined;
  };

  const connect = (opts: ConnectOptions, handler: ConnHandler): Promise<Conn> => {
    const { addr } = opts;
    if (addr.transport === "tcp" && !resolvable(hostOf(addr.hostname))) {
      return Promise.reject(new ConnectError(addr, "ENOTFOUND"));
    }
    const target = find(addr);
    if (!target) return Promise.reject(new ConnectError(addr, "ECONNREFUSED"));
    let clientLocal: Addr;
    let serverLocal: Addr;
    if (addr.transport === "unix") {
      clientLocal = serverLocal = addr;
    } else {
      const host = hostOf(addr.hostname);
      clientLocal = { transport: "tcp", hostname: host, port: freePort() };
      serverLocal = { transport: "tcp", hostname: host, port: addr.port };
    }
    const client = new MemoryConn(clientLocal, serverLocal, handler, opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK);
    const server = new MemoryConn(serverLocal, clientLocal, target.handler, target.highWaterMark);
    client.peer = server;
    server.peer = client;
    // As over loopback: the server side opens (accept) on the next tick, the client at once.
    return new Promise<Conn>((resolve) => {
      setTimeout(() => server.open(), 0);
      client.open();
      resolve(client);
    });
  };

  return { runtime: "memory", listen, connect };
}
