// Guards against a run that claims to cover a runtime but does not: the runner tells each
// vitest run which runtime it is meant to be (SB_EXPECT_RUNTIME: set by test/run-all.mjs, or
// by vitest.config.ts from the runtime vitest was launched with), and this test checks it.
import { expect, test } from "vitest";
import { detectRuntime, loadRuntime } from "../support/runtime.ts";

test("this vitest run executes on the runtime it claims to cover", async () => {
  const expected = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env
    .SB_EXPECT_RUNTIME;
  expect(expected, "SB_EXPECT_RUNTIME is not set: vitest.config.ts should set it for every run").toBeTruthy();
  expect(["node", "deno", "bun"]).toContain(expected);
  expect(detectRuntime()).toBe(expected);
  const rt = await loadRuntime();
  expect(rt.transport.runtime).toBe(expected);
  expect(rt.host.runtime).toBe(expected);
});
