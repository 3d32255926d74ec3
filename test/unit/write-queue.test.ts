// The write queue shared by the Bun and Deno adapters: bytes leave in the order they
// were queued, partial writes keep the rest, small chunks are merged within limits.
import fc from "fast-check";
import { expect, test } from "vitest";
import { WriteQueue } from "../../src/adapter-kit/write-queue.ts";
import { pattern } from "../support/sockets.ts";

type Op = { push: number } | { take: number } | { clear: true };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ push: fc.integer({ min: 0, max: 40_000 }) }),
  fc.record({ take: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.constant({ clear: true as const }),
);

test.each([
  { below: 16 * 1024, max: 64 * 1024 },
  { below: 64 * 1024, max: 64 * 1024 },
  { below: 8, max: 20 },
])("matches a plain byte-array model under any push / partial write / clear sequence (%o)", (limits) => {
  let seed = 1;
  fc.assert(
    fc.property(fc.array(op, { maxLength: 1000 }), (ops) => {
      const q = new WriteQueue(limits);
      let model: number[] = [];
      for (const o of ops) {
        if ("push" in o) {
          const b = pattern(o.push % 3 === 0 ? o.push : o.push % 300, seed++); // mostly small, some large
          q.push(b);
          for (const x of b) model.push(x);
        } else if ("clear" in o) {
          q.clear();
          model = [];
        } else if (!q.isEmpty) {
          const piece = q.next();
          expect(piece.length).toBeGreaterThan(0);
          expect(Array.from(piece)).toEqual(model.slice(0, piece.length));
          const n = Math.floor(o.take * piece.length); // the kernel took only part of it
          q.consume(n);
          model = model.slice(n);
        }
        expect(q.bytes).toBe(model.length);
        expect(q.isEmpty).toBe(model.length === 0);
      }
      while (!q.isEmpty) {
        const p = q.next();
        expect(Array.from(p)).toEqual(model.slice(0, p.length));
        q.consume(p.length);
        model = model.slice(p.length);
      }
      expect(model.length).toBe(0);
    }),
    { numRuns: 200 },
  );
});

test("a large head goes out as is (no copy); small chunks merge up to the limit", () => {
  const q = new WriteQueue({ below: 16 * 1024, max: 64 * 1024 });
  const big = new Uint8Array(20_000);
  q.push(big);
  q.push(new Uint8Array(10));
  expect(q.next()).toBe(big);
  q.consume(20_000);
  for (let i = 0; i < 100; i++) q.push(new Uint8Array(1000));
  expect(q.next().length).toBe(10 + 65 * 1000);
});

test("thousands of one-byte writes drained one at a time keep their order", () => {
  const q = new WriteQueue({ below: 1, max: 1 });
  for (let i = 0; i < 5000; i++) q.push(new Uint8Array([i & 255]));
  for (let i = 0; i < 5000; i++) {
    const p = q.next();
    expect(Array.from(p)).toEqual([i & 255]);
    q.consume(1);
  }
  expect(q.isEmpty).toBe(true);
});

test("a slow reader taking a little of a merged head at a time: every byte is copied at most once", () => {
  // Deno's settings (merge everything up to 64 KiB); the kernel takes 64 bytes per write
  // while 100-byte writes keep coming, so the queue grows behind a merged head.
  const q = new WriteQueue({ below: 64 * 1024, max: 64 * 1024 });
  const sent: number[] = []; // every byte pushed, in order
  let taken = 0; // how many of them the "kernel" took
  const takeSome = (max: number) => {
    const piece = q.next();
    const n = Math.min(max, piece.length);
    expect(Array.from(piece.subarray(0, n))).toEqual(sent.slice(taken, taken + n));
    q.consume(n);
    taken += n;
  };
  for (let i = 0; i < 3000; i++) {
    const b = pattern(100, i);
    q.push(b);
    for (const x of b) sent.push(x);
    if (i % 2 === 0) takeSome(64);
  }
  while (!q.isEmpty) takeSome(4096);
  expect(taken).toBe(sent.length);
  expect(q.copiedBytes).toBeGreaterThan(0); // merging happened
  expect(q.copiedBytes).toBeLessThanOrEqual(sent.length);
});
