// What a PROXY header says, version-independent.

import type { Addr } from "../transport.ts";

/** One v2 TLV, as received (unknown types are kept raw, never interpreted). */
export interface ProxyTlv {
  type: number;
  value: Uint8Array;
}

export interface ProxyHeader {
  version: 1 | 2;
  /**
   * "proxy": `source`/`destination` are the client's and the balancer's addresses.
   * "local": the balancer speaks for itself (health checks, v2 LOCAL, v1 UNKNOWN, v2 UNSPEC):
   * keep the socket's own addresses.
   */
  command: "proxy" | "local";
  source?: Addr;
  destination?: Addr;
  /** v2 only: every TLV in order (the CRC32C one, if any, already verified). */
  tlvs: ProxyTlv[];
  /** Bytes of the header; what follows belongs to the service. */
  length: number;
}

/** v2 TLV types (proxy-protocol.txt §2.2). */
export const PP2_TYPE = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  NETNS: 0x30,
} as const;
