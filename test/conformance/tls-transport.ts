// A Transport that speaks TLS on every TCP listen and connect, over the runtime's own
// adapter: the conformance suite runs through it a second time (conformance-tls.test.ts).
import type { ConnectOptions, ListenOptions, Transport } from "../../src/transport.ts";
import type { TlsClientOptions, TlsServerOptions } from "../../src/tls.ts";

export function overTls(t: Transport, server: TlsServerOptions, client: TlsClientOptions): Transport {
  return {
    runtime: t.runtime,
    ...(t.tlsSupport ? { tlsSupport: t.tlsSupport } : {}),
    listen: (opts: ListenOptions, h) => t.listen(opts.addr.transport === "tcp" ? { ...opts, tls: server } : opts, h),
    connect: (opts: ConnectOptions, h) => t.connect(opts.addr.transport === "tcp" ? { ...opts, tls: client } : opts, h),
  };
}
