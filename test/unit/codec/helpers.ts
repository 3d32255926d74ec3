// Shared drivers for the codec property tests: encode frames, cut the bytes anywhere,
// feed them through a fresh decoder, and compare.
import fc from "fast-check";
import { ByteQueue } from "../../../src/codec/byte-queue.ts";
import { decodeAll, decodeEofAll } from "../../../src/codec/codec.ts";
import type { Codec, Decoder, Encoder } from "../../../src/codec/codec.ts";
import { CodecError } from "../../../src/codec/errors.ts";

/** Runs of every codec property (several thousand each, as the issue asks): none uses fewer. */
export const RUNS = 3000;

export const bytes = (...b: number[]) => Uint8Array.from(b);
export const ascii = (s: string) => new TextEncoder().encode(s);
export const text = (b: Uint8Array) => new TextDecoder().decode(b);
export const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

import { concatBytes as concat } from "../../../src/bytes.ts";
export { concat };

export function encodeAll<F>(encoder: Encoder<F>, frames: readonly F[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of frames) encoder.encode(f, (b) => parts.push(b));
  return concat(parts);
}

/**
 * How to cut a byte stream into received chunks: in one piece, one byte at a time, in
 * chunks of the given sizes (repeated), or at arbitrary cut points (each taken modulo
 * the stream length + 1, so any position of any stream can be drawn).
 */
export type Split =
  | { kind: "whole" }
  | { kind: "bytes" }
  | { kind: "sizes"; sizes: number[]; copy: boolean }
  | { kind: "cuts"; at: number[]; copy: boolean };

export const splitArb: fc.Arbitrary<Split> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Split>({ kind: "whole" }) },
  { weight: 1, arbitrary: fc.constant<Split>({ kind: "bytes" }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("sizes" as const),
      sizes: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
      copy: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("cuts" as const),
      at: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
      copy: fc.boolean(),
    }),
  },
);

/** Cuts `data` into chunks: subarrays of it (sharing its buffer) unless `copy`. */
export function split(data: Uint8Array, s: Split): Uint8Array[] {
  if (s.kind === "whole") return [data];
  if (s.kind === "cuts") {
    const cuts = [...new Set(s.at.map((n) => n % (data.length + 1))), 0, data.length].sort((a, b) => a - b);
    const chunks: Uint8Array[] = [];
    for (let i = 1; i < cuts.length; i++) {
      const c = data.subarray(cuts[i - 1]!, cuts[i]!);
      if (c.length > 0) chunks.push(s.copy ? c.slice() : c);
    }
    return chunks;
  }
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = s.kind === "bytes" ? 1 : s.sizes[i % s.sizes.length]!;
    const c = data.subarray(at, at + n);
    chunks.push(s.kind === "sizes" && s.copy ? c.slice() : c);
    at += n;
  }
  return chunks;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Feeds chunks to a decoder; returns the frames from decode() and from the EOF drain separately. */
export function feed<F>(
  decoder: Decoder<F>,
  chunks: readonly Uint8Array[],
): { frames: F[]; atEof: F[]; maxLeft: number } {
  const q = new ByteQueue();
  const frames: F[] = [];
  let maxLeft = 0;
  for (const c of chunks) {
    q.push(c);
    frames.push(...decodeAll(decoder, q));
    maxLeft = Math.max(maxLeft, q.length);
  }
  const atEof = decodeEofAll(decoder, q);
  if (q.length !== 0) throw new Error(`queue not drained at EOF: ${q.length} bytes left`);
  return { frames, atEof, maxLeft };
}

/**
 * Property (a): for any codec parameters P and any frames valid for them, the frames,
 * encoded, concatenated and cut anywhere, decode to the same frames in order, and EOF
 * adds nothing. `eq` compares one frame.
 */
export function assertRoundTrip<P, F>(
  params: fc.Arbitrary<P>,
  make: (p: P) => Codec<F>,
  framesFor: (p: P) => fc.Arbitrary<F[]>,
  eq: (a: F, b: F) => boolean,
  numRuns = RUNS,
): void {
  const cases = params.chain((p) => framesFor(p).map((frames) => ({ p, frames })));
  fc.assert(
    fc.property(cases, splitArb, ({ p, frames }, s) => {
      const wire = encodeAll(make(p), frames);
      const { frames: got, atEof } = feed(make(p), split(wire, s));
      if (atEof.length !== 0) throw new Error(`EOF yielded ${atEof.length} extra frame(s)`);
      if (got.length !== frames.length) throw new Error(`got ${got.length} frames, want ${frames.length}`);
      got.forEach((g, i) => {
        if (!eq(g, frames[i]!)) throw new Error(`frame ${i} differs`);
      });
    }),
    { numRuns },
  );
}

/**
 * Property (b): random bytes in random chunks only ever raise CodecErrors (never another
 * exception, never a hang), and after each decode round the queue holds at most bound(p).
 * `expected` narrows which errors count as typed (e.g. one CodecError subclass).
 */
export function assertGarbageSafe<P, F>(
  params: fc.Arbitrary<P>,
  make: (p: P) => Decoder<F>,
  bound: (p: P) => number,
  garbage: (p: P) => fc.Arbitrary<Uint8Array> = () => fc.uint8Array({ maxLength: 400 }),
  { numRuns = RUNS, expected = (e: unknown) => e instanceof CodecError }: {
    numRuns?: number;
    expected?: (e: unknown) => boolean;
  } = {},
): void {
  const cases = params.chain((p) => garbage(p).map((data) => ({ p, data })));
  fc.assert(
    fc.property(cases, splitArb, ({ p, data }, s) => {
      const decoder = make(p);
      const q = new ByteQueue();
      const limit = bound(p);
      try {
        for (const c of split(data, s)) {
          q.push(c);
          decodeAll(decoder, q);
          if (q.length > limit) throw new Error(`queue holds ${q.length} bytes, bound ${limit}`);
        }
        decodeEofAll(decoder, q);
      } catch (e) {
        if (!expected(e)) throw e;
      }
    }),
    { numRuns },
  );
}

/** Garbage biased towards the given bytes (delimiters, small length fields, known types). */
export function biasedBytes(favourites: readonly number[], maxLength = 400): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength }),
    fc.array(fc.oneof(fc.constantFrom(...favourites), fc.integer({ min: 0, max: 255 })), { maxLength }).map((a) =>
      Uint8Array.from(a)
    ),
  );
}

/**
 * Pushes `header` in chunks (one byte at a time by default) and returns the error thrown,
 * the bytes pushed when it was thrown (`at`, -1 if none was) and the queue length then.
 */
export function errorAtHeader<F>(
  decoder: Decoder<F>,
  header: Uint8Array,
  s: Split = { kind: "bytes" },
): { error: unknown; at: number; queued: number } {
  const q = new ByteQueue();
  let pushed = 0;
  for (const c of split(header, s)) {
    q.push(c);
    pushed += c.length;
    try {
      decodeAll(decoder, q);
    } catch (error) {
      return { error, at: pushed, queued: q.length };
    }
  }
  return { error: undefined, at: -1, queued: q.length };
}
