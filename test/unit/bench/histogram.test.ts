// The bench histogram against exact nearest-rank percentiles of the same samples
// (src/latency.ts): never below the exact value, never more than 1/1024 above it.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Histogram } from "../../../src/bench/histogram.ts";
import { LatencyRecorder } from "../../../src/latency.ts";

const PERCENTILES = [0, 1, 50, 90, 99, 99.9, 100];

function both(values: number[]): { h: Histogram; exact: LatencyRecorder } {
  const h = new Histogram();
  const exact = new LatencyRecorder();
  for (const v of values) {
    h.record(v);
    exact.add(v);
  }
  return { h, exact };
}

describe("Histogram", () => {
  test("percentiles are within 1/1024 above the exact ones, for any samples", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 2 ** 42 })), {
          minLength: 1,
          maxLength: 400,
        }),
        (values) => {
          const { h, exact } = both(values);
          for (const p of PERCENTILES) {
            const want = exact.percentile(p)!;
            const got = h.percentile(p);
            expect(got).toBeGreaterThanOrEqual(want);
            expect(got - want).toBeLessThanOrEqual(want / 1024);
          }
          expect(h.count).toBe(values.length);
          expect(h.min).toBe(Math.min(...values));
          expect(h.max).toBe(Math.max(...values));
        },
      ),
      { numRuns: 300 },
    );
  });

  test("values below 2048 are exact; a bucket edge lands in its own bucket", () => {
    const { h } = both([0, 1, 2047, 2048, 4095, 4096]);
    expect(h.percentile(100 / 6)).toBe(0);
    expect(h.percentile(50)).toBe(2047);
    // listed by their upper ends: 2048..2049 and 4096..4099 are 2 and 4 wide
    expect(h.buckets().map(([v]) => v)).toEqual([0, 1, 2047, 2049, 4095, 4099]);
  });

  test("mean, reset and add", () => {
    const a = new Histogram();
    const b = new Histogram();
    for (const v of [10, 20, 30]) a.record(v);
    b.record(1_000_000);
    expect(a.mean).toBe(20);
    a.add(b);
    expect(a.count).toBe(4);
    expect(a.max).toBe(1_000_000);
    a.reset();
    expect([a.count, a.max, a.min, a.percentile(99)]).toEqual([0, 0, 0, 0]);
  });

  test("negative and huge values are clamped, not lost", () => {
    const h = new Histogram();
    h.record(-5);
    h.record(1e300);
    expect(h.count).toBe(2);
    expect(h.min).toBe(0);
    expect(h.max).toBe(2 ** 43 - 1);
  });
});
