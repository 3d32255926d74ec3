// The servers the benchmarks run, by key: `RUNTIME:hand` (the hand-written baseline),
// `RUNTIME:sb` (switchboard serve, echo), `RUNTIME:sb-lp` (lp:u32 framed echo),
// `RUNTIME:sb-app` (the app protocol), `python` (the tutorial-style app server). Each is
// [command, args]; `flags` go to the runtime itself (a profiler's options, say).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../..", import.meta.url));
export const bin = (n) => join(root, "node_modules/.bin", n);

const listen = ["--listen", "127.0.0.1:0"];

/** A script run by a runtime, with the runtime's own flags first. */
function onRuntime(rt, script, args = [], flags = []) {
  const path = join(root, script);
  if (rt === "node") return [process.execPath, [...flags, path, ...args]];
  if (rt === "deno") return [bin("deno"), ["run", "-A", ...flags, path, ...args]];
  return [bin("bun"), [...flags, path, ...args]];
}

/** switchboard's entry point on each runtime (Node runs the built dist/). */
const entry = { node: "dist/adapters/node/main.js", deno: "adapters/deno/main.ts", bun: "adapters/bun/main.ts" };
const hand = {
  node: "bench/baseline/node-echo.mjs",
  deno: "bench/baseline/deno-echo.ts",
  bun: "bench/baseline/bun-echo.ts",
};

/** `switchboard serve` on `rt` with extra arguments. */
export const sbServer = (rt, args = [], flags = []) => onRuntime(rt, entry[rt], ["serve", ...listen, ...args], flags);

/** `switchboard` (no subcommand yet) on `rt`: for `switchboard bench`. */
export const sbCli = (rt, flags = []) => onRuntime(rt, entry[rt], [], flags);

/** The server for a key (see the header), or undefined for a key not listed here. */
export function serverFor(key, flags = []) {
  if (key === "python") return ["python3", [join(root, "bench/baseline/app-server.py")]];
  const [rt, kind] = key.split(":");
  if (!(rt in entry)) return undefined;
  if (kind === "hand") return onRuntime(rt, hand[rt], [], flags);
  if (kind === "sb") return sbServer(rt, [], flags);
  if (kind === "sb-lp") return sbServer(rt, ["--framing", "lp:u32"], flags);
  if (kind === "sb-app") return sbServer(rt, ["--service", "app"], flags);
  return undefined;
}

/** Builds dist/ (Node runs switchboard from there). */
export function buildDist() {
  const build = spawnSync(bin("tsc"), ["-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("building dist/ failed");
}

/** buildDist() when any of `keys` is a Node server. */
export function buildIfNode(keys) {
  if (keys.some((k) => k.startsWith("node:"))) buildDist();
}

/** Builds bench/baseline/NAME.c with gcc into `dir`; returns the program's path. */
export function buildC(name, dir) {
  const out = join(dir, name);
  const cc = spawnSync("gcc", ["-O2", "-o", out, join(root, `bench/baseline/${name}.c`)], { stdio: "inherit" });
  if (cc.status !== 0) throw new Error(`gcc could not build bench/baseline/${name}.c`);
  return out;
}
