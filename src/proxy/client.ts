// The sending side: a Transport whose every connection starts with a PROXY header, so
// any client built on the Transport (send, request, a load generator) can speak for
// another source address without knowing about the header.

import type { Addr, Conn, ConnHandler, Transport } from "../transport.ts";
import type { ProxyVersion } from "./encode.ts";
import { encodeV1 } from "./v1.ts";
import { encodeV2 } from "./v2.ts";

export interface ProxySend {
  version: ProxyVersion;
  /** The client address to announce; absent: the connection's own local address (what a proxy would send). */
  source?: Addr;
}

/** The header for `conn`: source as given (or the socket's own), destination the server as dialled. */
export function headerFor(send: ProxySend, conn: Conn): Uint8Array {
  const source = send.source ?? conn.local;
  let destination = conn.remote;
  // Over a unix socket there is no TCP destination: announce the unspecified address of the source's family.
  if (source.transport === "tcp" && destination.transport !== "tcp") {
    destination = { transport: "tcp", hostname: source.hostname.includes(":") ? "::" : "0.0.0.0", port: 0 };
  }
  return send.version === "v1" ? encodeV1(source, destination) : encodeV2(source, destination);
}

/** `transport` with a header written first on every connection it opens. */
export function proxyingTransport(transport: Transport, send: ProxySend): Transport {
  return {
    runtime: transport.runtime,
    listen: (opts, handler) => transport.listen(opts, handler),
    connect: (opts, handler) => transport.connect(opts, headerFirst(handler, send)),
  };
}

/**
 * `handler` with the header written at open. Every event is forwarded as a method call on
 * `handler`, not copied off it: a handler that is a class instance (bench's) keeps its
 * prototype methods and its `this`. Optional events stay absent when `handler` has none
 * (without `end` the adapter ends our side itself).
 */
function headerFirst(handler: ConnHandler, send: ProxySend): ConnHandler {
  const wrapped: ConnHandler = {
    // open() runs before any other event and before connect() resolves: nothing can be written before the header.
    open: (c) => {
      c.write(headerFor(send, c));
      handler.open?.(c);
    },
    data: (c, chunk) => handler.data(c, chunk),
  };
  if (handler.end) wrapped.end = (c) => handler.end!(c);
  if (handler.drain) wrapped.drain = (c) => handler.drain!(c);
  if (handler.close) wrapped.close = (c, err) => handler.close!(c, err);
  return wrapped;
}
