#!/usr/bin/env node
// Builds the release binaries into one folder with a SHA256SUMS file:
//   npm run release [-- --out DIR]   (default build/release; earlier switchboard-* files and
//                                     SHA256SUMS in it are replaced, nothing else is touched)
// Bun's compiler cross-compiles one executable per target (it fetches each target's Bun
// runtime from the npm registry once, then caches it); Node's single executable is built
// for the machine this runs on (linux-x64 here). Names: switchboard-VERSION-OS-ARCH[-VARIANT][.exe].
// Options chosen by measurement (bench/startup.mjs --variants, docs/distribution.md).
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
if (outIndex >= 0 && !args[outIndex + 1]) {
  console.error("release: --out needs a directory");
  process.exit(2);
}
const unknown = outIndex < 0 ? args : args.filter((_, i) => i !== outIndex && i !== outIndex + 1);
if (unknown.length) {
  console.error(`release: unknown argument "${unknown[0]}" (usage: release.mjs [--out DIR])`);
  process.exit(2);
}
const out = resolve(outIndex >= 0 ? args[outIndex + 1] : join(root, "build", "release"));
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

/** Bun target → release name suffix. */
const BUN_TARGETS = [
  ["bun-linux-x64", "linux-x64"],
  ["bun-linux-x64-musl", "linux-x64-musl"],
  ["bun-linux-arm64", "linux-arm64"],
  ["bun-darwin-x64", "darwin-x64"],
  ["bun-darwin-arm64", "darwin-arm64"],
  ["bun-windows-x64", "windows-x64.exe"],
];
// --bytecode: precompiled JavaScriptCore bytecode, about a quarter faster to start for
// 1.6 MiB more (it needs ESM output, since the entry uses top-level await); --minify:
// a smaller bundle. Source maps are left out (none is the default).
const BUN_FLAGS = ["--minify", "--bytecode", "--format=esm"];
// --strip: 12 MiB less; --code-cache: V8's compiled code in the blob; --minify: smaller bundle.
const SEA_FLAGS = ["--minify", "--code-cache", "--strip"];

if (process.platform !== "linux" || process.arch !== "x64") {
  // The Node executable is a copy of the node running this script: it is only linux-x64 here.
  console.error(
    `release: the Node single executable is built on linux-x64 only (this is ${process.platform}-${process.arch})`,
  );
  process.exit(1);
}
mkdirSync(out, { recursive: true });
// Only what an earlier release wrote goes: --out may name a folder that holds other things.
const isRelease = (f) => f.startsWith("switchboard-") || f === "SHA256SUMS";
for (const f of readdirSync(out).filter(isRelease)) rmSync(join(out, f), { force: true });
const run = (cmd, argv) => execFileSync(cmd, argv, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });

const built = [];
for (const [target, suffix] of BUN_TARGETS) {
  built.push(`switchboard-${version}-${suffix}`);
  const file = join(out, built.at(-1));
  run(join(root, "node_modules/.bin/bun"), [
    "build",
    "--compile",
    `--target=${target}`,
    ...BUN_FLAGS,
    "adapters/bun/main.ts",
    "--outfile",
    file,
  ]);
}
built.push(`switchboard-${version}-linux-x64-node`);
run(process.execPath, [join(root, "adapters/node/build-sea.mjs"), join(out, built.at(-1)), ...SEA_FLAGS]);

const files = built.sort();
const sums = files.map((f) => `${createHash("sha256").update(readFileSync(join(out, f))).digest("hex")}  ${f}\n`);
writeFileSync(join(out, "SHA256SUMS"), sums.join(""));

console.log(`\n${out}:`);
for (const f of files) console.log(`  ${(statSync(join(out, f)).size / 1024 / 1024).toFixed(1).padStart(6)} MiB  ${f}`);
console.log("  SHA256SUMS");
