import { defineConfig } from "vitest/config";

// SB_SCOPE picks which tests a run takes:
//  portable: test/conformance, test/unit — run once on each runtime (node, bun, deno),
//            exercising that runtime's adapter in-process;
//  driver:   test/e2e, test/reliability — run once, under Node; each test starts real
//            switchboard processes on every runtime and talks to them over TCP.
const scope = process.env.SB_SCOPE ?? "portable";
const include = scope === "driver"
  ? ["test/e2e/**/*.test.ts", "test/reliability/**/*.test.ts"]
  : ["test/conformance/**/*.test.ts", "test/unit/**/*.test.ts"];

// This file runs in vitest's main process, on the runtime vitest was launched with: that is
// the runtime a portable run claims to cover. Workers are told so (SB_EXPECT_RUNTIME, unless
// the launcher already set it) and test/unit/runtime-guard.test.ts checks they really run
// on it — whether started by test/run-all.mjs, `deno task test` or a plain `bun x --bun vitest run`.
const g = globalThis as { Deno?: unknown; Bun?: unknown };
const launchedOn = g.Deno ? "deno" : g.Bun ? "bun" : "node";
const expectRuntime = process.env.SB_EXPECT_RUNTIME || launchedOn;

export default defineConfig({
  test: {
    include,
    env: { SB_EXPECT_RUNTIME: expectRuntime },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // 2 cores: a few files at once keeps socket tests from starving each other.
    maxWorkers: 2,
  },
});
