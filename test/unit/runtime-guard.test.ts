// Guards against a run that claims to cover a runtime but does not: the test runner
// tells each vitest run which runtime it is meant to be, and this test checks it.
import { expect, test } from "vitest";
import { detectRuntime, loadRuntime } from "../support/runtime.ts";

test("this vitest run executes on the runtime it claims to cover", async () => {
  const expected = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env
    .SB_EXPECT_RUNTIME;
  if (expected) expect(detectRuntime()).toBe(expected);
  const rt = await loadRuntime();
  expect(rt.transport.runtime).toBe(detectRuntime());
  expect(rt.host.runtime).toBe(detectRuntime());
});
