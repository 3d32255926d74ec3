// PROXY protocol v2 (proxy-protocol.txt §2.2): a 12-byte signature, version/command,
// family/transport, a 16-bit length, the addresses, then TLVs. Every length is checked
// against the bytes it claims before anything is read from them.

import type { Addr } from "../transport.ts";
import { crc32c } from "./crc32c.ts";
import { ProxyHeaderError } from "./errors.ts";
import { PP2_TYPE, type ProxyHeader, type ProxyTlv } from "./header.ts";
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from "./ip.ts";

export const V2_SIGNATURE = new Uint8Array([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** The fixed part: signature, ver_cmd, fam, len. */
export const V2_FIXED = 16;
/** The largest header: the 16-bit length field bounds it. */
export const V2_MAX_LENGTH = V2_FIXED + 0xffff;
/**
 * The largest header accepted by default: addresses plus room for the TLVs balancers add
 * (ALPN, authority, unique id, SSL details, cloud endpoint ids). A peer cannot make a held
 * connection buffer 64 KiB by announcing it.
 */
export const V2_DEFAULT_LIMIT = 4096;

const FAMILY_UNSPEC = 0, FAMILY_INET = 1, FAMILY_INET6 = 2; // 3 = UNIX
const ADDR_LENGTH = [0, 12, 36, 216];
const UNIX_PATH = 108;
/** The only fam bytes the specification allows; everything else "must be rejected". */
const VALID_FAM = new Set([0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32]);
const UNIQUE_ID_MAX = 128;

const u16 = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;

/** Parse a v2 header at the start of `buf` (bytes `[0, n)`): the header, undefined for "need more", or a ProxyHeaderError. */
export function parseV2(buf: Uint8Array, n = buf.length, limit = V2_DEFAULT_LIMIT): ProxyHeader | undefined {
  for (let i = 0; i < Math.min(n, V2_SIGNATURE.length); i++) {
    if (buf[i] !== V2_SIGNATURE[i]) throw new ProxyHeaderError("bad-signature", "not the v2 signature");
  }
  if (n > 12) {
    const ver = buf[12]! >> 4, cmd = buf[12]! & 0xf;
    if (ver !== 2) throw new ProxyHeaderError("bad-version", `version ${ver}, expected 2`);
    if (cmd > 1) throw new ProxyHeaderError("bad-command", `command ${cmd}, expected 0 (LOCAL) or 1 (PROXY)`);
    // LOCAL discards the whole protocol block, family included (the specification says so).
    if (cmd === 1 && n > 13 && !VALID_FAM.has(buf[13]!)) {
      throw new ProxyHeaderError("bad-family", `family/transport byte 0x${buf[13]!.toString(16).padStart(2, "0")}`);
    }
  }
  if (n < V2_FIXED) return undefined;
  const len = u16(buf, 14);
  const total = V2_FIXED + len;
  // Checked from the length field, before the body is buffered.
  if (total > limit) {
    throw new ProxyHeaderError("too-long", `a ${total}-byte v2 header exceeds the ${limit}-byte limit`);
  }
  if (n < total) return undefined;
  if ((buf[12]! & 0xf) === 0) return { version: 2, command: "local", tlvs: [], length: total };

  const family = buf[13]! >> 4, transport = buf[13]! & 0xf;
  if (transport === 2) throw new ProxyHeaderError("bad-family", "a datagram (DGRAM) source on a stream connection");
  const addrLen = ADDR_LENGTH[family]!;
  if (len < addrLen) {
    throw new ProxyHeaderError("bad-length", `length ${len} is shorter than the ${addrLen}-byte address block`);
  }
  const tlvs = parseTlvs(buf, V2_FIXED + addrLen, total);
  if (family === FAMILY_UNSPEC) return { version: 2, command: "local", tlvs, length: total };
  const [source, destination] = addresses(buf.subarray(V2_FIXED, V2_FIXED + addrLen), family);
  return { version: 2, command: "proxy", source, destination, tlvs, length: total };
}

function addresses(a: Uint8Array, family: number): [Addr, Addr] {
  if (family === FAMILY_INET) {
    return [
      { transport: "tcp", hostname: formatIpv4(a.subarray(0, 4)), port: u16(a, 8) },
      { transport: "tcp", hostname: formatIpv4(a.subarray(4, 8)), port: u16(a, 10) },
    ];
  }
  if (family === FAMILY_INET6) {
    return [
      { transport: "tcp", hostname: formatIpv6(a.subarray(0, 16)), port: u16(a, 32) },
      { transport: "tcp", hostname: formatIpv6(a.subarray(16, 32)), port: u16(a, 34) },
    ];
  }
  const path = (b: Uint8Array) => {
    const nul = b.indexOf(0);
    return new TextDecoder().decode(nul < 0 ? b : b.subarray(0, nul));
  };
  return [
    { transport: "unix", path: path(a.subarray(0, UNIX_PATH)) },
    { transport: "unix", path: path(a.subarray(UNIX_PATH, 2 * UNIX_PATH)) },
  ];
}

function parseTlvs(buf: Uint8Array, from: number, to: number): ProxyTlv[] {
  const tlvs: ProxyTlv[] = [];
  let crcAt = -1;
  for (let i = from; i < to;) {
    if (to - i < 3) throw new ProxyHeaderError("tlv-overrun", `${to - i} byte(s) left, a TLV needs 3`);
    const type = buf[i]!, len = u16(buf, i + 1);
    if (i + 3 + len > to) {
      throw new ProxyHeaderError("tlv-overrun", `TLV 0x${type.toString(16)} of ${len} bytes overruns the header`);
    }
    const value = buf.subarray(i + 3, i + 3 + len);
    if (type === PP2_TYPE.CRC32C) {
      if (len !== 4 || crcAt >= 0) throw new ProxyHeaderError("bad-tlv", "CRC32C TLV must be one, of 4 bytes");
      crcAt = i + 3;
    }
    if (type === PP2_TYPE.UNIQUE_ID && len > UNIQUE_ID_MAX) {
      throw new ProxyHeaderError("bad-tlv", `UNIQUE_ID of ${len} bytes (at most ${UNIQUE_ID_MAX})`);
    }
    tlvs.push({ type, value });
    i += 3 + len;
  }
  if (crcAt >= 0) {
    // The checksum covers the whole header with its own field read as zero.
    const copy = buf.slice(0, to);
    const want = ((copy[crcAt]! << 24) | (copy[crcAt + 1]! << 16) | (copy[crcAt + 2]! << 8) | copy[crcAt + 3]!) >>> 0;
    copy.fill(0, crcAt, crcAt + 4);
    if (crc32c(copy) !== want) throw new ProxyHeaderError("bad-crc", "CRC32C does not match the header");
  }
  return tlvs;
}

export interface V2Options {
  /** "local": a health check or the balancer's own connection (no addresses sent). */
  command?: "proxy" | "local";
  tlvs?: readonly ProxyTlv[];
  /** Append a PP2_TYPE_CRC32C TLV over the whole header. */
  crc?: boolean;
}

/** The v2 header for a connection from `source` to `destination` (IPv4 if both are, else IPv6 with mapped v4; unix paths). */
export function encodeV2(source: Addr | undefined, destination: Addr | undefined, opts: V2Options = {}): Uint8Array {
  const local = opts.command === "local" || !source || !destination;
  let fam = 0x00;
  let addr = new Uint8Array(0);
  if (!local) {
    if (source.transport === "unix" && destination.transport === "unix") {
      fam = 0x31;
      addr = new Uint8Array(2 * UNIX_PATH);
      for (const [i, a] of [source, destination].entries()) {
        const p = new TextEncoder().encode(a.path);
        if (p.length >= UNIX_PATH) {
          throw new ProxyHeaderError("bad-address", `unix path longer than ${UNIX_PATH - 1} bytes`);
        }
        addr.set(p, i * UNIX_PATH);
      }
    } else if (source.transport === "tcp" && destination.transport === "tcp") {
      const s4 = parseIpv4(source.hostname), d4 = parseIpv4(destination.hostname);
      if (s4 && d4) {
        fam = 0x11;
        addr = new Uint8Array(12);
        addr.set(s4, 0);
        addr.set(d4, 4);
      } else {
        fam = 0x21;
        addr = new Uint8Array(36);
        addr.set(v6(source.hostname), 0);
        addr.set(v6(destination.hostname), 16);
      }
      const p = addr.length - 4;
      addr[p] = source.port >> 8, addr[p + 1] = source.port & 255;
      addr[p + 2] = destination.port >> 8, addr[p + 3] = destination.port & 255;
    } else {
      throw new ProxyHeaderError("bad-address", "source and destination must be both TCP or both unix");
    }
  }
  const tlvs = [...(opts.tlvs ?? [])];
  if (opts.crc) tlvs.push({ type: PP2_TYPE.CRC32C, value: new Uint8Array(4) });
  const tlvBytes = tlvs.reduce((s, t) => s + 3 + t.value.length, 0);
  const len = addr.length + tlvBytes;
  if (len > 0xffff) throw new ProxyHeaderError("bad-length", `header body of ${len} bytes exceeds 65535`);
  const out = new Uint8Array(V2_FIXED + len);
  out.set(V2_SIGNATURE, 0);
  out[12] = local ? 0x20 : 0x21;
  out[13] = fam;
  out[14] = len >> 8, out[15] = len & 255;
  out.set(addr, V2_FIXED);
  let i = V2_FIXED + addr.length;
  for (const t of tlvs) {
    out[i] = t.type, out[i + 1] = t.value.length >> 8, out[i + 2] = t.value.length & 255;
    out.set(t.value, i + 3);
    i += 3 + t.value.length;
  }
  if (opts.crc) {
    const c = crc32c(out);
    out[i - 4] = c >>> 24, out[i - 3] = (c >>> 16) & 255, out[i - 2] = (c >>> 8) & 255, out[i - 1] = c & 255;
  }
  return out;
}

function v6(host: string): Uint8Array {
  const v4 = parseIpv4(host);
  if (v4) return new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]);
  const b = parseIpv6(host);
  if (!b) throw new ProxyHeaderError("bad-address", `not an IP address: "${host}"`);
  return b;
}
