// The "source" per-source limits count against. One IPv4 address is one source. An
// IPv6 peer is keyed by its /64: a single host commonly owns a whole /64, so per-/128
// limits would let it open 2^64 "different" sources. IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d, seen on dual-stack listeners) count as the IPv4 address.
// Unix-socket peers have no address: they are exempt from per-source limits.

import type { Addr } from "../transport.ts";

/** The per-source key of a peer, or undefined when per-source limits do not apply. */
export function sourceKey(remote: Addr): string | undefined {
  if (remote.transport !== "tcp") return undefined;
  const host = remote.hostname.toLowerCase();
  if (!host.includes(":")) return host;
  const g = expandIpv6(host);
  if (!g) return host;
  if (g.slice(0, 5).every((x) => x === "0") && g[5] === "ffff") {
    const hi = parseInt(g[6]!, 16), lo = parseInt(g[7]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return `${g.slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined if malformed. */
function expandIpv6(text: string): string[] | undefined {
  let host = text.split("%")[0]!;
  // A trailing dotted quad stands for the last two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    host = host.slice(0, quad.index) + ((a << 8) | b).toString(16) + ":" + ((c << 8) | d).toString(16);
  }
  const halves = host.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => g.replace(/^0+(?=.)/, ""));
}
