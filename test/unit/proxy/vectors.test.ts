// The specification's own examples (proxy-protocol.txt), a header captured from a real
// HAProxy, and every malformed form with the reason it must be refused for.

import { describe, expect, test } from "vitest";
import { parseProxyHeader, ProxyHeaderDecoder } from "../../../src/proxy/parse.ts";
import { ProxyHeaderError, type ProxyHeaderReason } from "../../../src/proxy/errors.ts";
import { encodeV2, V2_SIGNATURE } from "../../../src/proxy/v2.ts";
import { crc32c } from "../../../src/proxy/crc32c.ts";
import { PP2_TYPE } from "../../../src/proxy/header.ts";

const ascii = (s: string) => new TextEncoder().encode(s);
const hexBytes = (h: string) => Uint8Array.from(h.trim().split(/\s+/), (x) => parseInt(x, 16));
const F = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";

function reason(input: Uint8Array): ProxyHeaderReason | "incomplete" | "ok" {
  try {
    return parseProxyHeader(input) ? "ok" : "incomplete";
  } catch (err) {
    expect(err).toBeInstanceOf(ProxyHeaderError);
    return (err as ProxyHeaderError).reason;
  }
}

/** A v2 header with the given ver_cmd, fam and body (length field from the body unless given). */
function v2(verCmd: number, fam: number, body: number[], len = body.length): Uint8Array {
  return Uint8Array.from([...V2_SIGNATURE, verCmd, fam, len >> 8, len & 255, ...body]);
}
const INET_BODY = [192, 0, 2, 1, 198, 51, 100, 2, 0x30, 0x39, 0x01, 0xbb]; // 192.0.2.1:12345 -> 198.51.100.2:443

describe("PROXY v1: the specification's examples", () => {
  test("TCP4 worst case, 56 bytes", () => {
    const line = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
    expect(line.length).toBe(56);
    expect(parseProxyHeader(ascii(line))).toEqual({
      version: 1,
      command: "proxy",
      source: { transport: "tcp", hostname: "255.255.255.255", port: 65535 },
      destination: { transport: "tcp", hostname: "255.255.255.255", port: 65535 },
      tlvs: [],
      length: 56,
    });
  });

  test("TCP6 worst case, 104 bytes", () => {
    const line = `PROXY TCP6 ${F} ${F} 65535 65535\r\n`;
    expect(line.length).toBe(104);
    const h = parseProxyHeader(ascii(line))!;
    expect(h.source).toEqual({ transport: "tcp", hostname: F, port: 65535 });
    expect(h.length).toBe(104);
  });

  test("UNKNOWN short form (15 bytes) and long form (107 bytes): keep the socket's addresses", () => {
    expect(parseProxyHeader(ascii("PROXY UNKNOWN\r\n"))).toEqual({
      version: 1,
      command: "local",
      tlvs: [],
      length: 15,
    });
    const long = `PROXY UNKNOWN ${F} ${F} 65535 65535\r\n`;
    expect(long.length).toBe(107);
    expect(parseProxyHeader(ascii(long))).toMatchObject({ command: "local", length: 107 });
  });

  test("the bytes after the line belong to the service", () => {
    const d = new ProxyHeaderDecoder();
    const out = d.push(ascii("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n"))!;
    expect(out.header.source).toEqual({ transport: "tcp", hostname: "192.168.0.1", port: 56324 });
    expect(out.header.destination).toEqual({ transport: "tcp", hostname: "192.168.0.11", port: 443 });
    expect(new TextDecoder().decode(out.rest)).toBe("GET / HTTP/1.1\r\n");
  });

  test("IPv6 addresses come out in canonical form", () => {
    const h = parseProxyHeader(ascii("PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::ffff:192.0.2.1 1 2\r\n"))!;
    expect(h.source).toMatchObject({ hostname: "2001:db8::1" });
    expect(h.destination).toMatchObject({ hostname: "::ffff:c000:201" });
  });
});

describe("PROXY v1: malformed forms", () => {
  const cases: [string, string, ProxyHeaderReason | "incomplete"][] = [
    ["lower-case prefix", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "bad-signature"],
    ["no space after PROXY", "PROXYTCP4", "bad-signature"],
    ["108 bytes without CRLF", `PROXY UNKNOWN ${F} ${F} 65535 655351\r\n`, "too-long"],
    ["107 bytes, no CRLF yet", `PROXY UNKNOWN ${F} ${F} 65535 65535xx`, "too-long"],
    ["LF without CR", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "bad-syntax"],
    ["CR in the middle", "PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n", "bad-syntax"],
    ["NUL byte", "PROXY TCP4 1.2.3.4\x005.6.7.8 1 2\r\n", "bad-syntax"],
    ["unknown protocol", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "bad-family"],
    ["double space", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "bad-syntax"],
    ["missing port", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "bad-syntax"],
    ["trailing field", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "bad-syntax"],
    ["octet over 255", "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", "bad-address"],
    ["IPv6 under TCP4", "PROXY TCP4 ::1 ::1 1 2\r\n", "bad-address"],
    ["IPv4 under TCP6", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", "bad-address"],
    ["port over 65535", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "bad-address"],
    ["port with leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "bad-address"],
    ["signed port", "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "bad-address"],
    ["empty line", "PROXY \r\n", "bad-family"],
    ["prefix only: need more", "PROXY TCP4 1.2", "incomplete"],
  ];
  for (const [name, input, want] of cases) {
    test(name, () => expect(reason(ascii(input))).toBe(want));
  }

  test("EOF before the CRLF: truncated", () => {
    const d = new ProxyHeaderDecoder();
    expect(d.push(ascii("PROXY TCP4 1.2.3.4"))).toBeUndefined();
    expect(() => d.end()).toThrow(expect.objectContaining({ reason: "truncated" }));
  });
});

describe("PROXY v2", () => {
  test("a header captured from HAProxy (send-proxy-v2), followed by the request", () => {
    const wire = hexBytes(`0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a 21 11 00 0c
      ac 13 00 01 ac 13 00 03 a6 52 00 50 47 45 54 20`);
    const out = new ProxyHeaderDecoder().push(wire)!;
    expect(out.header).toEqual({
      version: 2,
      command: "proxy",
      source: { transport: "tcp", hostname: "172.19.0.1", port: 42578 },
      destination: { transport: "tcp", hostname: "172.19.0.3", port: 80 },
      tlvs: [],
      length: 28,
    });
    expect(new TextDecoder().decode(out.rest)).toBe("GET ");
  });

  test("TCP over IPv6", () => {
    const body = [...new Array(15).fill(0), 1, 0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 7, 0, 80, 0x1f, 0x90];
    expect(parseProxyHeader(v2(0x21, 0x21, body))).toMatchObject({
      source: { transport: "tcp", hostname: "::1", port: 80 },
      destination: { transport: "tcp", hostname: "2001:db8::7", port: 8080 },
    });
  });

  test("UNIX stream: paths up to the first NUL", () => {
    const body = new Array(216).fill(0);
    ascii("/run/a.sock").forEach((b, i) => (body[i] = b));
    ascii("/run/b.sock").forEach((b, i) => (body[108 + i] = b));
    expect(parseProxyHeader(v2(0x21, 0x31, body))).toMatchObject({
      command: "proxy",
      source: { transport: "unix", path: "/run/a.sock" },
      destination: { transport: "unix", path: "/run/b.sock" },
    });
  });

  test("LOCAL (health checks) and UNSPEC keep the socket's own address; LOCAL's block is discarded", () => {
    expect(parseProxyHeader(v2(0x20, 0x00, []))).toEqual({ version: 2, command: "local", tlvs: [], length: 16 });
    expect(parseProxyHeader(v2(0x20, 0xff, [1, 2, 3]))).toMatchObject({ command: "local", length: 19 });
    expect(parseProxyHeader(v2(0x21, 0x00, []))).toMatchObject({ command: "local", length: 16 });
  });

  test("TLVs: known and unknown kept in order; bytes after the header untouched", () => {
    const tlvs = [0x01, 0, 2, 0x68, 0x32, 0xe0, 0, 1, 0x99, 0x04, 0, 0]; // ALPN "h2", unknown 0xE0, NOOP
    const h = parseProxyHeader(v2(0x21, 0x11, [...INET_BODY, ...tlvs]))!;
    expect(h.tlvs.map((t) => [t.type, [...t.value]])).toEqual([[1, [0x68, 0x32]], [0xe0, [0x99]], [4, []]]);
  });

  test("the v2 limit is the decoder's to set: the largest header the length field can announce", () => {
    const big = v2(0x21, 0x11, [...INET_BODY, 0xe0, 0xff, 0xf0, ...new Array(0xfff0).fill(1)]);
    expect(big.length).toBe(16 + 0xffff);
    expect(() => new ProxyHeaderDecoder().push(big)).toThrow(expect.objectContaining({ reason: "too-long" }));
    expect(new ProxyHeaderDecoder(0xffff + 16).push(big)!.header.tlvs[0]!.value.length).toBe(0xfff0);
  });

  test("CRC32C: the standard check value, and a header that carries one", () => {
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
    const good = encodeV2(
      { transport: "tcp", hostname: "192.0.2.1", port: 1 },
      { transport: "tcp", hostname: "192.0.2.2", port: 2 },
      { crc: true },
    );
    expect(parseProxyHeader(good)!.tlvs.map((t) => t.type)).toEqual([PP2_TYPE.CRC32C]);
    const bad = good.slice();
    bad[16] ^= 1; // flip one address bit: the checksum no longer matches
    expect(reason(bad)).toBe("bad-crc");
  });

  const malformed: [string, Uint8Array, ProxyHeaderReason | "incomplete"][] = [
    [
      "bad signature byte",
      Uint8Array.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x55]),
      "bad-signature",
    ],
    ["first byte neither v1 nor v2", Uint8Array.from([0x16, 0x03, 0x01]), "bad-signature"],
    ["version 1 in a v2 header", v2(0x11, 0x11, INET_BODY), "bad-version"],
    ["version 3", v2(0x31, 0x11, INET_BODY), "bad-version"],
    ["command 2", v2(0x22, 0x11, INET_BODY), "bad-command"],
    ["family 4", v2(0x21, 0x41, INET_BODY), "bad-family"],
    ["transport 3", v2(0x21, 0x13, INET_BODY), "bad-family"],
    ["INET with transport UNSPEC", v2(0x21, 0x10, INET_BODY), "bad-family"],
    ["datagram on a stream", v2(0x21, 0x12, INET_BODY), "bad-family"],
    ["length shorter than INET addresses", v2(0x21, 0x11, INET_BODY.slice(0, 11)), "bad-length"],
    ["length shorter than INET6 addresses", v2(0x21, 0x21, new Array(35).fill(0)), "bad-length"],
    ["length shorter than UNIX addresses", v2(0x21, 0x31, new Array(215).fill(0)), "bad-length"],
    ["length lies (more than sent): need more", v2(0x21, 0x11, INET_BODY, 40), "incomplete"],
    ["TLV header cut short", v2(0x21, 0x11, [...INET_BODY, 0x04, 0]), "tlv-overrun"],
    ["TLV value overruns the header", v2(0x21, 0x11, [...INET_BODY, 0x04, 0, 5, 1, 2]), "tlv-overrun"],
    ["CRC32C of 3 bytes", v2(0x21, 0x11, [...INET_BODY, 0x03, 0, 3, 1, 2, 3]), "bad-tlv"],
    ["UNIQUE_ID over 128 bytes", v2(0x21, 0x11, [...INET_BODY, 0x05, 0, 129, ...new Array(129).fill(7)]), "bad-tlv"],
    ["12-byte signature only", V2_SIGNATURE, "incomplete"],
    ["length over the 4 KiB default limit, refused from the length field", v2(0x21, 0x11, INET_BODY, 4081), "too-long"],
  ];
  for (const [name, input, want] of malformed) {
    test(name, () => expect(reason(input)).toBe(want));
  }
});
