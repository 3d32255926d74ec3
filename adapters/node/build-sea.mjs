#!/usr/bin/env node
// Builds Node's single executable: bundle the CLI to one CommonJS file (with Bun's
// bundler, a dev dependency), turn it into a SEA blob, and inject it into a copy of node.
//   node adapters/node/build-sea.mjs [OUTFILE] [--minify] [--code-cache] [--strip]   (default build/switchboard-node)
// --minify minifies the bundle; --code-cache stores V8's compiled code in the blob (useCodeCache);
// --strip drops node's symbols and debug info (binutils' strip) before the blob goes in: about
// 12 MiB less. Stripping after injection breaks the executable.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const args = process.argv.slice(2);
const out = args.find((a) => !a.startsWith("--")) ?? join(root, "build", "switchboard-node");
// A work folder of its own: two builds at once (a release and a test) must not share files.
mkdirSync(join(root, "build"), { recursive: true });
const work = mkdtempSync(join(root, "build", "sea-"));
mkdirSync(dirname(out), { recursive: true });
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit" });

const bundle = join(work, "switchboard.cjs");
run(join(root, "node_modules/.bin/bun"), [
  "build",
  "adapters/node/sea-main.ts",
  "--target=node",
  "--format=cjs",
  `--outfile=${bundle}`,
  ...(args.includes("--minify") ? ["--minify"] : []),
]);
const config = join(work, "sea-config.json");
const blob = join(work, "switchboard.blob");
writeFileSync(
  config,
  JSON.stringify({
    main: bundle,
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: args.includes("--code-cache"),
  }),
);
run(process.execPath, ["--experimental-sea-config", config]);
copyFileSync(process.execPath, out);
chmodSync(out, 0o755);
if (args.includes("--strip")) {
  try {
    execFileSync("strip", [out], { stdio: "inherit" });
  } catch (err) {
    throw new Error(`--strip needs binutils' strip (apt-get install binutils): ${err.message}`);
  }
}
run(process.execPath, [
  join(root, "node_modules/postject/dist/cli.js"),
  out,
  "NODE_SEA_BLOB",
  blob,
  "--sentinel-fuse",
  "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2",
]);
rmSync(work, { recursive: true, force: true });
console.log(`built ${out}`);
