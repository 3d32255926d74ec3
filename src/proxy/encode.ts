// Writing a PROXY header for a client connection: what `send --proxy` and `request --proxy`
// prepend (and what a load generator can reuse: one function, no socket involved).

import type { Addr } from "../transport.ts";
import { encodeV1 } from "./v1.ts";
import { encodeV2 } from "./v2.ts";

export type ProxyVersion = "v1" | "v2";

/**
 * The header announcing a connection from `source` (the client being spoken for) to
 * `destination` (normally the server's address as the client sees it).
 */
export function encodeProxyHeader(version: ProxyVersion, source: Addr, destination: Addr): Uint8Array {
  return version === "v1" ? encodeV1(source, destination) : encodeV2(source, destination);
}

export { encodeV1, encodeV2 };
