// --proxy-trusted: the networks allowed to send a PROXY header. Anyone else could claim
// any address, so their connections are refused before a byte is read as a header.

import type { Addr } from "../transport.ts";
import { ipv6Bytes, parseIpv4, parseIpv6 } from "./ip.ts";

export class CidrError extends Error {
  override name = "CidrError";
}

/** One network, kept as 16 bytes (IPv4 as ::ffff:a.b.c.d/96+n) and a prefix length. */
interface Net {
  bytes: Uint8Array;
  bits: number;
}

/** A parsed list of CIDRs; `matches` answers for a peer address. */
export class TrustedNets {
  readonly #nets: Net[];

  constructor(readonly text: readonly string[]) {
    this.#nets = text.map(parseCidr);
  }

  /** Whether a connection from `peer` may send a header. Unix peers are local: always trusted. */
  matches(peer: Addr): boolean {
    if (peer.transport === "unix") return true;
    const b = ipv6Bytes(peer.hostname.split("%")[0]!);
    if (!b) return false;
    return this.#nets.some((n) => within(b, n));
  }
}

function within(b: Uint8Array, n: Net): boolean {
  for (let bit = 0; bit < n.bits; bit += 8) {
    const mask = n.bits - bit >= 8 ? 0xff : (0xff << (8 - (n.bits - bit))) & 0xff;
    if ((b[bit >> 3]! & mask) !== (n.bytes[bit >> 3]! & mask)) return false;
  }
  return true;
}

/** "10.0.0.0/8", "::1/128", "127.0.0.1" (a single address): a clear error for anything else. */
export function parseCidr(text: string): Net {
  const [addr, prefix, extra] = text.trim().split("/");
  if (extra !== undefined || !addr) throw new CidrError(`bad network "${text}": expected ADDR or ADDR/BITS`);
  const v4 = parseIpv4(addr);
  const v6 = v4 ? undefined : parseIpv6(addr);
  if (!v4 && !v6) throw new CidrError(`bad network "${text}": "${addr}" is not an IPv4 or IPv6 address`);
  const max = v4 ? 32 : 128;
  let bits = max;
  if (prefix !== undefined) {
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) {
      throw new CidrError(`bad network "${text}": prefix length must be 0..${max}`);
    }
    bits = Number(prefix);
  }
  // IPv4 nets live in the ::ffff:0:0/96 range, so IPv4-mapped peers on a dual-stack listener match too.
  return { bytes: ipv6Bytes(addr)!, bits: v4 ? 96 + bits : bits };
}
