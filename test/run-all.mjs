#!/usr/bin/env node
// The whole test suite: system tools, type-check, build for Node, lint and format
// checks, then vitest on each runtime.
// Ends with one line "N passed, N failed, N skipped" summed from vitest's JSON reports.
//
//   node test/run-all.mjs            everything
//   node test/run-all.mjs node bun   only these runs (node | bun | deno | driver)
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules", ".bin", name);
const resultsDir = join(root, ".vitest-results");

const runs = {
  node: { cmd: process.execPath, args: [bin("vitest"), "run"], scope: "portable" },
  bun: { cmd: bin("bun"), args: ["x", "--bun", "vitest", "run"], scope: "portable" },
  deno: { cmd: bin("deno"), args: ["run", "-A", "npm:vitest", "run"], scope: "portable" },
  driver: { cmd: process.execPath, args: [bin("vitest"), "run"], scope: "driver" },
};
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(runs);

function step(label, cmd, args, env = {}) {
  console.log(`\n=== ${label}: ${[cmd, ...args].join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
  return r.status ?? 1;
}

// Static checks: each failing one counts as one failure. deno lint includes JSR's
// no-slow-types rule; fmt and lint follow the settings in deno.json.
const checks = [
  ["system tools", "bash", [join(root, ".ci", "system-tools")]],
  ["typecheck", process.execPath, [bin("tsc"), "-p", "tsconfig.json"]],
  ["build", process.execPath, [bin("tsc"), "-p", "tsconfig.build.json"]],
  ["lint", bin("deno"), ["lint", "--quiet"]],
  ["format", bin("deno"), ["fmt", "--check", "--quiet"]],
];
let failedSteps = 0;
for (const [label, cmd, args] of checks) {
  if (step(label, cmd, args) !== 0) {
    console.log(`${label} failed`);
    failedSteps++;
  }
}

rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });
let passed = 0, failed = failedSteps, skipped = 0;
for (const name of wanted) {
  const run = runs[name];
  if (!run) throw new Error(`unknown run "${name}"; choose from ${Object.keys(runs).join(", ")}`);
  const out = join(resultsDir, `${name}.json`);
  const status = step(`vitest on ${name}`, run.cmd, [
    ...run.args,
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${out}`,
  ], {
    SB_SCOPE: run.scope,
    SB_EXPECT_RUNTIME: run.scope === "portable" ? name : "node",
  });
  if (!existsSync(out)) {
    console.log(`vitest on ${name} wrote no report (exit ${status}): counted as one failure`);
    failed++;
    continue;
  }
  const report = JSON.parse(readFileSync(out, "utf8"));
  const p = report.numPassedTests, f = report.numFailedTests, s = report.numPendingTests + report.numTodoTests;
  // A file that fails to load has no tests to count: count it as a failure too.
  const brokenFiles = report.testResults.filter((t) => t.status === "failed" && t.assertionResults.length === 0).length;
  console.log(
    `vitest on ${name}: ${p} passed, ${f} failed, ${s} skipped${
      brokenFiles ? `, ${brokenFiles} files failed to run` : ""
    }`,
  );
  passed += p;
  failed += f + brokenFiles;
  skipped += s;
  if (status !== 0 && f === 0 && brokenFiles === 0) failed++; // e.g. an unhandled error outside any test
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
