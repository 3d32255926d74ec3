import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { SendStall } from "../../src/server/send-stall.ts";

describe("write-stall clock (age of the oldest queued byte)", () => {
  test("nothing queued: no stall", () => {
    const s = new SendStall();
    expect(s.sample(0, 0, 0)).toBe(0);
    expect(s.sample(100, 100, 50)).toBe(0);
  });

  test("a peer that takes nothing: the age grows from the first sweep that saw the bytes", () => {
    const s = new SendStall();
    expect(s.sample(1000, 0, 100)).toBe(0);
    expect(s.sample(1000, 0, 600)).toBe(500);
    expect(s.sample(5000, 0, 1100)).toBe(1000); // more queued behind does not make the head younger
  });

  test("a slow reader taking a little every sweep is still stalled (progress does not reset it)", () => {
    const s = new SendStall();
    let written = 64 * 1024;
    let sent = 0;
    let age = 0;
    for (let t = 0; t <= 10_000; t += 100) {
      age = s.sample(written, sent, t);
      sent += 100; // 1 KB/s
      written = sent + 64 * 1024; // the service keeps the queue full
    }
    expect(age).toBeGreaterThan(5_000);
  });

  test("a reader that keeps up never looks stalled, however long the stream", () => {
    const s = new SendStall();
    let written = 0;
    for (let t = 0; t <= 100_000; t += 100) {
      const sent = written; // everything queued by the last sweep has gone
      written += 64 * 1024;
      expect(s.sample(written, sent, t)).toBe(0);
    }
  });

  test("the age is never more than the true age of the oldest queued byte, nor short by more than a sweep", () => {
    // Model: bytes are written at known times between sweeps; the kernel takes a prefix.
    fc.assert(
      fc.property(
        fc.array(fc.record({ add: fc.nat(5000), take: fc.nat(6000), gap: fc.integer({ min: 1, max: 500 }) }), {
          minLength: 1,
          maxLength: 200,
        }),
        (steps) => {
          const s = new SendStall();
          // When each byte was written, and how long the sweep interval it fell in was.
          const writtenAt: number[] = [];
          const interval: number[] = [];
          let written = 0;
          let sent = 0;
          let now = 0;
          for (const step of steps) {
            const writeTime = now + step.gap / 2; // written between two sweeps
            for (let i = 0; i < step.add; i++) {
              writtenAt.push(writeTime);
              interval.push(step.gap);
            }
            written += step.add;
            sent = Math.min(written, sent + step.take);
            now += step.gap;
            const age = s.sample(written, sent, now);
            if (sent === written) {
              if (age !== 0) return false;
            } else {
              const trueAge = now - writtenAt[sent]!;
              if (age > trueAge || age < trueAge - interval[sent]!) return false;
            }
          }
          return true;
        },
      ),
      { numRuns: 2000 },
    );
  });
});
