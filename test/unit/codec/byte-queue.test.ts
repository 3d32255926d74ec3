import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { ByteQueue } from "../../../src/codec/byte-queue.ts";
import { ascii, bytes, concat, RUNS } from "./helpers.ts";

function queueOf(...chunks: Uint8Array[]): ByteQueue {
  const q = new ByteQueue();
  for (const c of chunks) q.push(c);
  return q;
}

function naiveIndexOf(hay: Uint8Array, seq: Uint8Array, from: number): number {
  for (let i = Math.max(0, from); i + seq.length <= hay.length; i++) {
    let k = 0;
    while (k < seq.length && hay[i + k] === seq[k]) k++;
    if (k === seq.length) return i;
  }
  return -1;
}

describe("ByteQueue basics", () => {
  test("push takes chunks as they are and ignores empty ones", () => {
    const q = queueOf(ascii("ab"), new Uint8Array(0), ascii("cde"));
    expect(q.length).toBe(5);
    expect(q.chunkCount).toBe(2);
  });

  test("byteAt walks across chunks and rejects out-of-range indexes", () => {
    const q = queueOf(bytes(1, 2), bytes(3), bytes(4, 5, 6));
    expect([0, 1, 2, 3, 4, 5].map((i) => q.byteAt(i))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => q.byteAt(6)).toThrow(RangeError);
    expect(() => q.byteAt(-1)).toThrow(RangeError);
    q.skip(3);
    expect(q.byteAt(0)).toBe(4);
  });

  test("take within one chunk is a zero-copy subarray of it", () => {
    const chunk = ascii("hello world");
    const q = queueOf(chunk);
    const a = q.take(5);
    expect(a.buffer).toBe(chunk.buffer);
    expect(a.byteOffset).toBe(0);
    q.skip(1);
    const b = q.take(5);
    expect(b.buffer).toBe(chunk.buffer);
    expect(b.byteOffset).toBe(6);
    expect(new TextDecoder().decode(b)).toBe("world");
    expect(q.length).toBe(0);
  });

  test("with copyBelow, a shorter take within one chunk is a copy, a longer one still a view", () => {
    const chunk = ascii("hello wonderful world");
    const q = new ByteQueue({ copyBelow: 6 });
    q.push(chunk);
    const short = q.take(5);
    expect(short.buffer).not.toBe(chunk.buffer);
    expect(new TextDecoder().decode(short)).toBe("hello");
    q.skip(1);
    const long = q.take(9);
    expect(long.buffer).toBe(chunk.buffer);
    expect(new TextDecoder().decode(long)).toBe("wonderful");
    q.skip(1);
    expect(q.take(5)).not.toBe(chunk); // the tail: copied, not the chunk itself
  });

  test("property: with or without copyBelow, takes return the same bytes however the input is split", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }),
        fc.array(fc.nat({ max: 30 }), { maxLength: 12 }),
        fc.nat({ max: 64 }),
        (chunks, takes, copyBelow) => {
          const views = queueOf(...chunks);
          const copies = new ByteQueue({ copyBelow });
          for (const c of chunks) copies.push(c);
          const all = concat(chunks);
          let at = 0;
          for (const n of takes) {
            if (n > views.length) break;
            const want = all.subarray(at, at + n);
            expect(views.take(n)).toEqual(want);
            expect(copies.take(n)).toEqual(want);
            at += n;
          }
          expect(copies.length).toBe(views.length);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("take of a whole untouched chunk returns that chunk", () => {
    const chunk = ascii("abc");
    expect(queueOf(chunk).take(3)).toBe(chunk);
  });

  test("take spanning chunks copies once into a fresh array", () => {
    const a = ascii("abc");
    const b = ascii("def");
    const q = queueOf(a, b);
    q.skip(1);
    const t = q.take(4);
    expect(t.buffer).not.toBe(a.buffer);
    expect(t.buffer).not.toBe(b.buffer);
    expect(new TextDecoder().decode(t)).toBe("bcde");
    expect(q.take(1)[0]).toBe("f".charCodeAt(0));
  });

  test("take(0) gives an empty array; take beyond length throws", () => {
    const q = queueOf(ascii("ab"));
    expect(q.take(0).length).toBe(0);
    expect(() => q.take(3)).toThrow(RangeError);
    expect(() => q.skip(3)).toThrow(RangeError);
    expect(q.length).toBe(2);
  });

  test("peek does not consume", () => {
    const q = queueOf(ascii("ab"), ascii("cd"));
    expect(Array.from(q.peek(3))).toEqual(Array.from(ascii("abc")));
    expect(q.peek(2).buffer).toBe(q.peek(1).buffer);
    expect(q.length).toBe(4);
  });

  test("clear drops everything", () => {
    const q = queueOf(ascii("ab"), ascii("cd"));
    q.skip(1);
    q.clear();
    expect(q.length).toBe(0);
    expect(q.chunkCount).toBe(0);
    q.push(ascii("x"));
    expect(q.byteAt(0)).toBe(0x78);
  });

  test("lookups stay right after consuming from the head (cached position is shifted)", () => {
    const q = queueOf(bytes(1, 2, 3), bytes(4, 5, 6), bytes(7, 8));
    expect(q.byteAt(4)).toBe(5);
    q.skip(1);
    expect(q.byteAt(3)).toBe(5);
    expect(q.indexOf(bytes(7))).toBe(5);
    q.skip(3);
    expect(q.readUint(1, 2)).toBe(0x0607);
    expect(q.byteAt(3)).toBe(8);
  });

  test("consuming many small chunks one by one stays correct through compaction", () => {
    const q = new ByteQueue();
    for (let i = 0; i < 10_000; i++) q.push(bytes(i & 0xff));
    for (let i = 0; i < 9_000; i++) expect(q.take(1)[0]).toBe(i & 0xff);
    expect(q.length).toBe(1000);
    expect(q.chunkCount).toBe(1000);
    expect(q.byteAt(999)).toBe(9999 & 0xff);
    expect(q.indexOf(bytes(9999 & 0xff, 0))).toBe(-1);
  });
});

describe("ByteQueue.indexOf", () => {
  test("single byte across chunks, honouring from", () => {
    const q = queueOf(ascii("ab"), ascii("cx"), ascii("yx"));
    expect(q.indexOf(ascii("x"))).toBe(3);
    expect(q.indexOf(ascii("x"), 4)).toBe(5);
    expect(q.indexOf(ascii("x"), 6)).toBe(-1);
    expect(q.indexOf(ascii("z"))).toBe(-1);
  });

  test("multi-byte delimiter straddling two and three chunks", () => {
    expect(queueOf(ascii("abc\r"), ascii("\ndef")).indexOf(ascii("\r\n"))).toBe(3);
    expect(queueOf(ascii("ab"), ascii("C"), ascii("D"), ascii("Ex")).indexOf(ascii("CDE"))).toBe(2);
    expect(queueOf(ascii("x\r"), ascii("\r"), ascii("\n")).indexOf(ascii("\r\n"))).toBe(2);
    // A partial match at the very end is not a match.
    expect(queueOf(ascii("abc\r")).indexOf(ascii("\r\n"))).toBe(-1);
  });

  test("respects the consumed offset of the head chunk", () => {
    const q = queueOf(ascii("\n\nab\n"));
    q.skip(2);
    expect(q.indexOf(ascii("\n"))).toBe(2);
  });

  test("empty sequence matches at from", () => {
    const q = queueOf(ascii("abc"));
    expect(q.indexOf(new Uint8Array(0), 2)).toBe(2);
    expect(q.indexOf(new Uint8Array(0), 4)).toBe(-1);
  });

  test("property: agrees with a naive search over the concatenation", () => {
    const small = fc.integer({ min: 0, max: 3 });
    fc.assert(
      fc.property(
        fc.array(fc.array(small, { maxLength: 8 }).map((a) => Uint8Array.from(a)), { maxLength: 8 }),
        fc.array(small, { minLength: 1, maxLength: 4 }).map((a) => Uint8Array.from(a)),
        fc.nat({ max: 40 }),
        fc.nat({ max: 5 }),
        (chunks, seq, from, skip) => {
          const all = concat(chunks);
          const q = queueOf(...chunks);
          const k = Math.min(skip, q.length);
          q.skip(k);
          expect(q.indexOf(seq, from)).toBe(naiveIndexOf(all.subarray(k), seq, from));
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("ByteQueue.readUint", () => {
  test("big-endian 1, 2, 4 and 8 bytes, in one chunk and straddling", () => {
    const data = bytes(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xff);
    for (const q of [queueOf(data), queueOf(data.subarray(0, 3), data.subarray(3, 5), data.subarray(5))]) {
      expect(q.readUint(0, 1)).toBe(0x01);
      expect(q.readUint(0, 2)).toBe(0x0102);
      expect(q.readUint(1, 4)).toBe(0x02030405);
      expect(q.readUint(0, 8)).toBe(0x0102030405060708);
      expect(q.readUint(5, 4)).toBe(0x060708ff);
      expect(q.length).toBe(9);
    }
  });

  test("u32 0xffffffff is unsigned", () => {
    expect(queueOf(bytes(0xff, 0xff, 0xff, 0xff)).readUint(0, 4)).toBe(0xffff_ffff);
  });

  test("8-byte values: exact up to 2^53 - 1, a non-safe number above", () => {
    const max = bytes(0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    expect(queueOf(max).readUint(0, 8)).toBe(Number.MAX_SAFE_INTEGER);
    const twoTo53 = bytes(0x00, 0x20, 0, 0, 0, 0, 0, 0);
    expect(Number.isSafeInteger(queueOf(twoTo53).readUint(0, 8))).toBe(false);
    const all = bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    const v = queueOf(all.subarray(0, 3), all.subarray(3)).readUint(0, 8);
    expect(Number.isSafeInteger(v)).toBe(false);
    expect(v).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
  });

  test("throws RangeError when the bytes are not all there", () => {
    expect(() => queueOf(bytes(1, 2, 3)).readUint(0, 4)).toThrow(RangeError);
  });

  test("property: matches DataView on any split", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.nat({ max: 7 }),
        fc.nat({ max: 7 }),
        (b, c1, c2) => {
          const [x, y] = [Math.min(c1, c2), Math.max(c1, c2)];
          const q = queueOf(b.subarray(0, x), b.subarray(x, y), b.subarray(y));
          const dv = new DataView(b.buffer, b.byteOffset, 8);
          expect(q.readUint(0, 1)).toBe(dv.getUint8(0));
          expect(q.readUint(0, 2)).toBe(dv.getUint16(0));
          expect(q.readUint(0, 4)).toBe(dv.getUint32(0));
          expect(q.readUint(4, 4)).toBe(dv.getUint32(4));
          const big = dv.getBigUint64(0);
          const v = q.readUint(0, 8);
          if (big <= BigInt(Number.MAX_SAFE_INTEGER)) expect(v).toBe(Number(big));
          else expect(Number.isSafeInteger(v)).toBe(false);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("ByteQueue model check", () => {
  type Op =
    | { op: "push"; data: Uint8Array }
    | { op: "take" | "skip" | "peek"; n: number }
    | { op: "byteAt"; i: number }
    | { op: "indexOf"; seq: Uint8Array; from: number }
    | { op: "readUint"; offset: number; width: 1 | 2 | 4 | 8 };

  // Small byte values so indexOf finds matches often.
  const dataArb = fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 12 }).map((a) => Uint8Array.from(a));
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant("push" as const), data: fc.oneof(fc.uint8Array({ maxLength: 12 }), dataArb) }),
    // Mostly small steps, so consumption often stops inside a chunk.
    fc.record({
      op: fc.constantFrom("take" as const, "skip" as const, "peek" as const),
      n: fc.oneof(fc.nat({ max: 3 }), fc.nat({ max: 20 })),
    }),
    fc.record({ op: fc.constant("byteAt" as const), i: fc.nat({ max: 20 }) }),
    fc.record({
      op: fc.constant("indexOf" as const),
      seq: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 3 }).map((a) => Uint8Array.from(a)),
      from: fc.nat({ max: 20 }),
    }),
    fc.record({
      op: fc.constant("readUint" as const),
      offset: fc.nat({ max: 12 }),
      width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
    }),
  );

  test("property: any sequence of operations behaves like a plain byte array", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60, size: "medium" }), (ops) => {
        const q = new ByteQueue();
        let model: number[] = [];
        for (const o of ops) {
          if (o.op === "push") {
            q.push(o.data);
            model.push(...o.data);
          } else if (o.op === "indexOf") {
            expect(q.indexOf(o.seq, o.from)).toBe(naiveIndexOf(Uint8Array.from(model), o.seq, o.from));
          } else if (o.op === "readUint") {
            if (o.offset + o.width > model.length) expect(() => q.readUint(o.offset, o.width)).toThrow(RangeError);
            else {
              const want = model.slice(o.offset, o.offset + o.width).reduce((v, b) => v * 256 + b, 0);
              const got = q.readUint(o.offset, o.width);
              if (Number.isSafeInteger(want)) expect(got).toBe(want);
              else expect(Number.isSafeInteger(got)).toBe(false);
            }
          } else if (o.op === "byteAt") {
            if (o.i < model.length) expect(q.byteAt(o.i)).toBe(model[o.i]);
            else expect(() => q.byteAt(o.i)).toThrow(RangeError);
          } else {
            const n = Math.min(o.n, model.length);
            if (o.op === "take") {
              expect(Array.from(q.take(n))).toEqual(model.slice(0, n));
              model = model.slice(n);
            } else if (o.op === "skip") {
              q.skip(n);
              model = model.slice(n);
            } else {
              expect(Array.from(q.peek(n))).toEqual(model.slice(0, n));
            }
          }
          expect(q.length).toBe(model.length);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
