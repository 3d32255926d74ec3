// PROXY protocol v1 (proxy-protocol.txt §2.1): one human-readable line,
// "PROXY TCP4|TCP6|UNKNOWN ... \r\n", at most 107 bytes including the CRLF.

import type { Addr } from "../transport.ts";
import { ProxyHeaderError } from "./errors.ts";
import type { ProxyHeader } from "./header.ts";
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from "./ip.ts";

/** The longest v1 line, CRLF included (the specification's worst case, TCP6 with 5-digit ports). */
export const V1_MAX_LENGTH = 107;
export const V1_PREFIX = new Uint8Array([0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]); // "PROXY "

const CR = 0x0d, LF = 0x0a;

function port(text: string): number | undefined {
  // Decimal 0..65535, no sign, no leading zeros: there is one way to write each port.
  return /^(0|[1-9]\d{0,4})$/.test(text) && Number(text) <= 65535 ? Number(text) : undefined;
}

/**
 * Parse a v1 header at the start of `buf` (bytes `[0, n)`): the header, undefined while the
 * CRLF has not arrived yet (and could still arrive within 107 bytes), or a ProxyHeaderError.
 */
export function parseV1(buf: Uint8Array, n = buf.length): ProxyHeader | undefined {
  for (let i = 0; i < Math.min(n, V1_PREFIX.length); i++) {
    if (buf[i] !== V1_PREFIX[i]) throw new ProxyHeaderError("bad-signature", 'v1 header must start with "PROXY "');
  }
  const limit = Math.min(n, V1_MAX_LENGTH);
  let lf = -1;
  for (let i = 0; i < limit; i++) {
    const b = buf[i]!;
    if (b === LF) {
      lf = i;
      break;
    }
    // Only printable ASCII, and a CR only right before the LF: reject as soon as it is seen.
    if (b === CR && i + 1 < n && buf[i + 1] !== LF) throw new ProxyHeaderError("bad-syntax", "CR not followed by LF");
    if (b !== CR && (b < 0x20 || b > 0x7e)) {
      throw new ProxyHeaderError("bad-syntax", `byte 0x${b.toString(16).padStart(2, "0")} in the v1 line`);
    }
  }
  if (lf < 0) {
    if (n >= V1_MAX_LENGTH) throw new ProxyHeaderError("too-long", `no CRLF within ${V1_MAX_LENGTH} bytes`);
    return undefined;
  }
  if (lf === 0 || buf[lf - 1] !== CR) throw new ProxyHeaderError("bad-syntax", "line must end with CRLF");
  const line = String.fromCharCode(...buf.subarray(0, lf - 1));
  const parts = line.split(" ");
  const length = lf + 1;
  if (parts[1] === "UNKNOWN") {
    // The sender cannot say (or will not): keep the socket's addresses; the rest is ignored.
    return { version: 1, command: "local", tlvs: [], length };
  }
  if (parts[1] !== "TCP4" && parts[1] !== "TCP6") {
    throw new ProxyHeaderError("bad-family", `protocol must be TCP4, TCP6 or UNKNOWN, got "${parts[1] ?? ""}"`);
  }
  if (parts.length !== 6) {
    throw new ProxyHeaderError("bad-syntax", "expected PROXY PROTO SRC DST SPORT DPORT separated by single spaces");
  }
  const [, proto, srcText, dstText, sportText, dportText] = parts as [string, string, string, string, string, string];
  const parse = proto === "TCP4" ? parseIpv4 : parseIpv6;
  const format = proto === "TCP4" ? formatIpv4 : formatIpv6;
  const src = parse(srcText), dst = parse(dstText);
  if (!src || !dst) throw new ProxyHeaderError("bad-address", `not ${proto} addresses: "${srcText}" "${dstText}"`);
  const sport = port(sportText), dport = port(dportText);
  if (sport === undefined || dport === undefined) {
    throw new ProxyHeaderError("bad-address", `ports must be 0..65535: "${sportText}" "${dportText}"`);
  }
  const source: Addr = { transport: "tcp", hostname: format(src), port: sport };
  const destination: Addr = { transport: "tcp", hostname: format(dst), port: dport };
  return { version: 1, command: "proxy", source, destination, tlvs: [], length };
}

/** The v1 line for a TCP connection from `source` to `destination` (TCP4 if both are IPv4, else TCP6). */
export function encodeV1(source: Addr | undefined, destination: Addr | undefined): Uint8Array {
  if (source?.transport !== "tcp" || destination?.transport !== "tcp") {
    return new TextEncoder().encode("PROXY UNKNOWN\r\n");
  }
  const s4 = parseIpv4(source.hostname), d4 = parseIpv4(destination.hostname);
  let line: string;
  if (s4 && d4) {
    line = `PROXY TCP4 ${formatIpv4(s4)} ${formatIpv4(d4)} ${source.port} ${destination.port}\r\n`;
  } else {
    const v6 = (h: string) => {
      const v4 = parseIpv4(h);
      const b = v4 ? undefined : parseIpv6(h);
      if (v4) return `::ffff:${formatIpv4(v4)}`;
      if (!b) throw new ProxyHeaderError("bad-address", `not an IP address: "${h}"`);
      return formatIpv6(b);
    };
    line = `PROXY TCP6 ${v6(source.hostname)} ${v6(destination.hostname)} ${source.port} ${destination.port}\r\n`;
  }
  return new TextEncoder().encode(line);
}
