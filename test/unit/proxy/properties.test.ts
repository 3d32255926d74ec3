// Properties of the PROXY header codec: any split of the input gives the same result as
// one chunk (valid or not), garbage only ever raises ProxyHeaderError, and what the
// encoder writes the parser reads back.

import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { type Decoded, ProxyHeaderDecoder } from "../../../src/proxy/parse.ts";
import { ProxyHeaderError } from "../../../src/proxy/errors.ts";
import { encodeProxyHeader } from "../../../src/proxy/encode.ts";
import { encodeV2, V2_SIGNATURE } from "../../../src/proxy/v2.ts";
import type { Addr } from "../../../src/transport.ts";

const RUNS = 2000;
const ascii = (s: string) => new TextEncoder().encode(s);

type Outcome = { ok: Decoded } | { error: string } | { incomplete: true };

/** Feed `chunks` one by one, then EOF. */
function feed(chunks: Uint8Array[]): Outcome {
  const d = new ProxyHeaderDecoder();
  const rest: Uint8Array[] = [];
  let got: Decoded | undefined;
  try {
    for (const c of chunks) {
      if (got) rest.push(c);
      else got = d.push(c);
    }
    if (!got) d.end();
  } catch (err) {
    if (!(err instanceof ProxyHeaderError)) throw err;
    return { error: err.reason };
  }
  const all = [got!.rest, ...rest];
  const merged = new Uint8Array(all.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of all) merged.set(c, (at += c.length) - c.length);
  return {
    ok: {
      header: { ...got!.header, tlvs: got!.header.tlvs.map((t) => ({ ...t, value: t.value.slice() })) },
      rest: merged,
    },
  };
}

/** Every way to cut `input` in two, plus byte by byte. */
function splits(input: Uint8Array): Uint8Array[][] {
  const out = [[input], Array.from(input, (b) => Uint8Array.of(b))];
  for (let i = 1; i < input.length; i++) out.push([input.subarray(0, i), input.subarray(i)]);
  return out;
}

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join("."));
const ipv6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) =>
  g.map((x) => x.toString(16)).join(":")
);
const tcp = (host: fc.Arbitrary<string>) =>
  fc.record({ transport: fc.constant("tcp" as const), hostname: host, port: fc.nat(65535) }) as fc.Arbitrary<Addr>;

const valid: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.tuple(fc.constantFrom("v1" as const, "v2" as const), fc.oneof(tcp(ipv4), tcp(ipv6)), tcp(ipv4))
    .map(([v, s, d]) => encodeProxyHeader(v, s, d)),
  fc.tuple(
    tcp(ipv4),
    tcp(ipv6),
    fc.boolean(),
    fc.array(fc.record({ type: fc.integer({ min: 0xe0, max: 0xef }), value: fc.uint8Array({ maxLength: 20 }) }), {
      maxLength: 3,
    }),
  )
    .map(([s, d, crc, tlvs]) => encodeV2(s, d, { crc, tlvs })),
  fc.constant(ascii("PROXY UNKNOWN\r\n")),
);

describe("PROXY header codec: properties", () => {
  test("valid headers, with service bytes after them, decode the same at every split", () => {
    fc.assert(
      fc.property(valid, fc.uint8Array({ maxLength: 8 }), (header, after) => {
        const input = new Uint8Array([...header, ...after]);
        const whole = feed([input]);
        expect(whole).toHaveProperty("ok");
        expect([...(whole as { ok: Decoded }).ok.rest]).toEqual([...after]);
        for (const s of splits(input)) expect(feed(s)).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  test("malformed headers (valid ones mutated, truncated or extended) fail the same way at every split", () => {
    const mutate = fc.tuple(valid, fc.nat(), fc.nat(255), fc.constantFrom("flip", "cut", "grow", "len"));
    fc.assert(
      fc.property(mutate, ([h, at, byte, how]) => {
        let input = h.slice();
        const i = at % input.length;
        if (how === "flip") input[i] = byte;
        if (how === "cut") input = input.subarray(0, i);
        if (how === "grow") input = new Uint8Array([...input.subarray(0, i), byte, ...input.subarray(i)]);
        if (how === "len" && input[0] === 0x0d) input[14 + (at % 2)] = byte; // the v2 length field lies
        const whole = feed([input]);
        for (const s of splits(input)) {
          const got = feed(s);
          // The same verdict; the rest may differ only when no header was found.
          expect("error" in got ? got.error : "ok").toBe("error" in whole ? whole.error : "ok");
        }
      }),
      { numRuns: 300 },
    );
  });

  test("random garbage raises nothing but ProxyHeaderError", () => {
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((b) => new Uint8Array([...V2_SIGNATURE, ...b])),
      fc.uint8Array({ maxLength: 120 }).map((b) => new Uint8Array([...ascii("PROXY "), ...b])),
      fc.string({ maxLength: 110 }).map((s) => ascii(`PROXY ${s}\r\n`)),
    );
    fc.assert(
      fc.property(garbage, fc.array(fc.nat(), { maxLength: 5 }), (input, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let from = 0;
        for (const p of [...points, input.length]) {
          chunks.push(input.subarray(from, p));
          from = p;
        }
        feed(chunks); // throws (failing the property) on anything but ProxyHeaderError
      }),
      { numRuns: RUNS },
    );
  });

  test("encode then parse gives back the addresses (v4 pairs as v4, mixed pairs as IPv6)", () => {
    fc.assert(
      fc.property(fc.constantFrom("v1" as const, "v2" as const), tcp(ipv4), tcp(ipv4), (v, s, d) => {
        const out = feed([encodeProxyHeader(v, s, d)]) as { ok: Decoded };
        expect(out.ok.header.source).toEqual(s);
        expect(out.ok.header.destination).toEqual(d);
      }),
      { numRuns: RUNS },
    );
    const out = feed([encodeProxyHeader("v2", { transport: "tcp", hostname: "2001:db8::1", port: 1 }, {
      transport: "tcp",
      hostname: "127.0.0.1",
      port: 2,
    })]) as { ok: Decoded };
    expect(out.ok.header.destination).toEqual({ transport: "tcp", hostname: "::ffff:7f00:1", port: 2 });
  });
});
