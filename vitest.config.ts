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

export default defineConfig({
  test: {
    include,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // 2 cores: a few files at once keeps socket tests from starving each other.
    maxWorkers: 2,
  },
});
