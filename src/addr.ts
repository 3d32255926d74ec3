// Parsing and printing of the address forms the CLI accepts:
//   host:port   [v6]:port   :port (default host)   port   unix:/path

import type { Addr } from "./transport.ts";

export class AddrError extends Error {
  override name = "AddrError";
}

/** Parse a user-written address. `defaultHost` fills in `:port` and bare `port`. */
export function parseAddr(text: string, defaultHost = "127.0.0.1"): Addr {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    if (path === "") throw new AddrError(`bad address "${text}": unix: needs a path`);
    return { transport: "unix", path };
  }
  let host: string;
  let portText: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0 || text[close + 1] !== ":") {
      throw new AddrError(`bad address "${text}": expected [v6-address]:port`);
    }
    host = text.slice(1, close);
    portText = text.slice(close + 2);
  } else if (/^\d+$/.test(text)) {
    host = defaultHost;
    portText = text;
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) throw new AddrError(`bad address "${text}": expected host:port, [v6]:port, :port or unix:/path`);
    host = text.slice(0, colon) || defaultHost;
    if (host.includes(":")) throw new AddrError(`bad address "${text}": write IPv6 addresses as [addr]:port`);
    portText = text.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new AddrError(`bad address "${text}": port must be a number from 0 to 65535`);
  }
  if (host === "" || /\s/.test(host)) throw new AddrError(`bad address "${text}": empty or invalid host`);
  return { transport: "tcp", hostname: host, port: Number(portText) };
}

/**
 * A TCP endpoint as a runtime reports it. Node and Bun cannot tell the address of a peer
 * that reset before its accept was handled (undefined): that is the unknown address (empty
 * host, port 0), which formatAddr prints as "unknown", never as a made-up ":0".
 */
export function tcpEndpoint(hostname: string | undefined, port: number | undefined): Addr {
  return hostname ? { transport: "tcp", hostname, port: port ?? 0 } : { transport: "tcp", hostname: "", port: 0 };
}

/** Listener addresses that accept connections to any local address. */
const WILDCARDS = new Set(["0.0.0.0", "::", ""]);

/**
 * The local address of every connection a listener bound to `bound` accepts, when that is
 * known without asking the kernel: a TCP listener on one address accepts only connections to
 * that address and port. A wildcard listener's connections each have their own (undefined).
 * Adapters use it to spare a getsockname per accept.
 */
export function acceptedLocal(bound: Addr): Addr | undefined {
  return bound.transport === "tcp" && !WILDCARDS.has(bound.hostname) ? bound : undefined;
}

/** Print an address the way parseAddr reads it ("unknown" for tcpEndpoint's unknown address). */
export function formatAddr(addr: Addr): string {
  if (addr.transport === "unix") return `unix:${addr.path}`;
  if (addr.hostname === "") return "unknown";
  return addr.hostname.includes(":") ? `[${addr.hostname}]:${addr.port}` : `${addr.hostname}:${addr.port}`;
}
