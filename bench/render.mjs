#!/usr/bin/env node
// Re-renders docs/benchmarks.md's results region from the raw measurements a run saved
// (bench/run.mjs prints their path), e.g. after a change to how the tables are laid out.
//   node bench/render.mjs /tmp/switchboard-bench-NNN.json [--print]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderTables, writeDocs } from "./lib/report.mjs";

const [raw, flag] = process.argv.slice(2);
if (!raw) {
  console.error("usage: node bench/render.mjs RAW.json [--print]");
  process.exit(2);
}
const { meta, runs } = JSON.parse(readFileSync(raw, "utf8"));
const tables = renderTables(meta, runs);
if (flag === "--print") console.log(tables);
else writeDocs(fileURLToPath(new URL("../docs/benchmarks.md", import.meta.url)), tables);
