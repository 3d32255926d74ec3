// Conformance checks that do not apply over TLS, each with its reason. Everything else in
// checks.ts runs over TLS on every runtime (conformance-tls.test.ts).
import type { RuntimeName } from "../support/runtime.ts";

const PYTHON_PEER = "its peer is a python process speaking plain TCP (the plain run covers it)";
const UNIX = "TLS is served on TCP only; unix sockets stay plain (the plain run covers it)";

export function notOverTls(_runtime: RuntimeName): Record<string, string> {
  return {
    "writing to a peer that has reset ends in close(conn, err) with an error, and write() never throws": PYTHON_PEER,
    "writing to a peer that left ends in close(conn, err) with ECONNRESET: connection reset by peer": PYTHON_PEER,
    "serves over a unix socket, replacing a stale socket file": UNIX,
    "refuses to replace a unix socket someone is listening on": UNIX,
    "does not replace a live unix socket whose backlog is full (ListenError EADDRINUSE)": UNIX,
    "a connect to a unix socket in a missing directory reads: no such file or directory (ENOENT)": UNIX,
    "listening on a unix socket in a missing directory reads: no such file or directory (ENOENT)": UNIX,
  };
}
