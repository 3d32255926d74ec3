// The options of every connect a bench run makes, in one place for every mode: the address,
// the connect timeout and, with --tls, the TLS options (so connect mode measures full
// handshakes). Built once per run and shared by every connect (the Transport does not keep it).

import type { Addr, ConnectOptions, TlsClientOptions } from "../transport.ts";

export function connectOptions(c: { addr: Addr; connectTimeoutMs: number; tls?: TlsClientOptions }): ConnectOptions {
  return { addr: c.addr, timeoutMs: c.connectTimeoutMs, ...(c.tls ? { tls: c.tls } : {}) };
}
