// The head-index queue the app session keeps its reply slots in (issue 9, defect 7).
import { expect, test } from "vitest";
import { Fifo } from "../../../src/services/fifo.ts";

test("first in, first out across compactions, interleaved pushes and shifts", () => {
  const q = new Fifo<number>();
  const model: number[] = [];
  let next = 0;
  const mismatches: string[] = [];
  const same = (what: string, a: unknown, b: unknown) => void (a !== b && mismatches.push(`${what}: ${a} != ${b}`));
  // Deep enough to compact many times; the pattern keeps the queue thousands long.
  for (let round = 0; round < 20_000; round++) {
    const pushes = round % 7 === 0 ? 5 : 1;
    for (let i = 0; i < pushes; i++) {
      q.push(next);
      model.push(next++);
    }
    if (round % 3 !== 0) same(`shift in round ${round}`, q.shift(), model.shift());
    same(`length in round ${round}`, q.length, model.length);
    same(`peek in round ${round}`, q.peek(), model[0]);
  }
  while (model.length > 0) same("shift at the end", q.shift(), model.shift());
  expect(mismatches.slice(0, 5)).toEqual([]);
  expect(q.length).toBe(0);
  expect(q.shift()).toBeUndefined();
  expect(q.peek()).toBeUndefined();
});

test("clear empties it; it is reusable afterwards", () => {
  const q = new Fifo<string>();
  q.push("a");
  q.push("b");
  q.clear();
  expect(q.length).toBe(0);
  q.push("c");
  expect(q.shift()).toBe("c");
});
