// The open-loop schedule: request i is due at start + i/R whatever happens to the others,
// the backlog keeps intended times in order, and nothing is due before the start.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { RateSchedule } from "../../../src/bench/rate-schedule.ts";

describe("RateSchedule", () => {
  test("requests fall due at start + i/R, and the backlog hands them out oldest first", () => {
    const s = new RateSchedule(100, 1000); // every 10 ms from t=1000
    expect(s.advance(999)).toBe(0);
    expect(s.advance(1000)).toBe(1); // request 0 is due at the start itself
    expect(s.advance(1035)).toBe(3); // 1010, 1020, 1030
    expect(s.backlog).toBe(4);
    expect([s.take(), s.take()]).toEqual([1000, 1010]);
    expect(s.untilNext(1035)).toBe(5);
    expect(s.advance(1035)).toBe(0); // nothing new: not counted twice
    expect(s.dropBacklog()).toBe(2);
    expect(s.take()).toBeUndefined();
    expect(s.issued).toBe(4);
  });

  test("for any rate and any (late, irregular) ticks: due count is floor(elapsed*R)+1 and times are exact", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 1e6, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { minLength: 1, maxLength: 50 }),
        (rate, steps) => {
          const s = new RateSchedule(rate, 0);
          let now = 0;
          let taken = 0;
          for (const step of steps) {
            now += step;
            s.advance(now);
            expect(s.issued).toBe(Math.floor(now / (1000 / rate)) + 1);
            const t = s.take();
            if (t !== undefined) {
              expect(t).toBeCloseTo(taken * (1000 / rate), 6);
              expect(t).toBeLessThanOrEqual(now);
              taken++;
            }
          }
          expect(s.backlog).toBe(s.issued - taken);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("the backlog grows past its first ring without losing order", () => {
    const s = new RateSchedule(1000, 0);
    s.advance(5000); // 5001 due
    expect(s.backlog).toBe(5001);
    for (let i = 0; i < 5001; i++) expect(s.take()).toBeCloseTo(i, 9);
  });

  test("a rate that is not a positive number is refused", () => {
    expect(() => new RateSchedule(0, 0)).toThrow(/positive/);
    expect(() => new RateSchedule(Infinity, 0)).toThrow(/positive/);
  });
});
