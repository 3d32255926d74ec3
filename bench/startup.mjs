#!/usr/bin/env node
// Start-up benchmark: time from spawn to the server's "listening" log line (stderr), the
// wait a user feels after typing `switchboard serve`, for every form switchboard ships in,
// plus what each form puts on disk. Forms run in a rotating order, one run each per round.
//   npm run build && npm run release && node bench/startup.mjs [--runs N] [--release DIR] [--variants]
// Also reports the CPU time each used until then (user + system, from /proc), which other load
// on the machine disturbs less than wall-clock time.
// --variants builds linux-x64 binaries with other bundler options into build/bench-variants
// and measures those instead (what was tried before choosing the release's options).
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (n) => join(root, "node_modules/.bin", n);
const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const runs = Number(opt("--runs", "15"));
const releaseDir = opt("--release", join(root, "build/release"));
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const serve = ["serve", "--listen", "127.0.0.1:0"];

const fileSize = (p) => statSync(p).size;
/** Bytes of every file under `dir` whose name ends with one of `exts`. */
function treeSize(dir, exts) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && exts.some((x) => e.name.endsWith(x)))
    .reduce((n, e) => n + fileSize(join(e.parentPath ?? e.path, e.name)), 0);
}
const real = (p) => execFileSync("readlink", ["-f", p], { encoding: "utf8" }).trim();
const code = (...dirs) => dirs.reduce((n, d) => n + treeSize(join(root, d), [".ts", ".js"]), 0);

/** name → { cmd, args, size (bytes on disk to run it), what } */
function releaseForms() {
  const exe = (suffix) => join(releaseDir, `switchboard-${version}-linux-x64${suffix}`);
  return {
    "bun binary": { cmd: exe(""), args: serve, size: fileSize(exe("")), what: "the binary" },
    "node SEA binary": { cmd: exe("-node"), args: serve, size: fileSize(exe("-node")), what: "the binary" },
    "bun adapters/bun/main.ts": {
      cmd: bin("bun"),
      args: [join(root, "adapters/bun/main.ts"), ...serve],
      size: fileSize(real(bin("bun"))) + code("src", "adapters/bun"),
      what: "bun + src/ + adapters/bun/",
    },
    "node dist/adapters/node/main.js": {
      cmd: process.execPath,
      args: [join(root, "dist/adapters/node/main.js"), ...serve],
      size: fileSize(process.execPath) + code("dist/src", "dist/adapters/node"),
      what: "node + dist/ (.js, .d.ts excluded)",
    },
    "deno run -A adapters/deno/main.ts": {
      cmd: bin("deno"),
      args: ["run", "-A", join(root, "adapters/deno/main.ts"), ...serve],
      size: fileSize(real(bin("deno"))) + code("src", "adapters/deno"),
      what: "deno + src/ + adapters/deno/",
    },
    // Floors: the smallest echo server on each runtime (bench/baseline), i.e. how much of the
    // time is the runtime's own start rather than switchboard's.
    "floor: node bench/baseline/node-echo.mjs": {
      cmd: process.execPath,
      args: [join(root, "bench/baseline/node-echo.mjs")],
      size: fileSize(process.execPath),
      what: "node",
    },
    "floor: bun bench/baseline/bun-echo.ts": {
      cmd: bin("bun"),
      args: [join(root, "bench/baseline/bun-echo.ts")],
      size: fileSize(real(bin("bun"))),
      what: "bun",
    },
    "floor: deno run bench/baseline/deno-echo.ts": {
      cmd: bin("deno"),
      args: ["run", "-A", join(root, "bench/baseline/deno-echo.ts")],
      size: fileSize(real(bin("deno"))),
      what: "deno",
    },
  };
}

function variantForms() {
  const dir = join(root, "build/bench-variants");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const bunVariants = {
    "bun (no options)": [],
    "bun --minify": ["--minify"],
    "bun --bytecode": ["--bytecode", "--format=esm"],
    "bun --minify --bytecode": ["--minify", "--bytecode", "--format=esm"],
    "bun --minify --sourcemap=linked": ["--minify", "--sourcemap=linked"],
  };
  const forms = {};
  let i = 0;
  for (const [name, flags] of Object.entries(bunVariants)) {
    const out = join(dir, `bun-${i++}`);
    execFileSync(bin("bun"), ["build", "--compile", ...flags, "adapters/bun/main.ts", "--outfile", out], {
      cwd: root,
      stdio: "ignore",
    });
    forms[name] = { cmd: out, args: serve, size: fileSize(out), what: flags.join(" ") || "-" };
  }
  const seaVariants = {
    "node SEA": [],
    "node SEA --minify": ["--minify"],
    "node SEA useCodeCache": ["--code-cache"],
    "node SEA --minify useCodeCache": ["--minify", "--code-cache"],
    "node SEA --minify useCodeCache --strip": ["--minify", "--code-cache", "--strip"],
  };
  for (const [name, flags] of Object.entries(seaVariants)) {
    const out = join(dir, `sea-${i++}`);
    execFileSync(process.execPath, [join(root, "adapters/node/build-sea.mjs"), out, ...flags], {
      cwd: root,
      stdio: "ignore",
    });
    forms[name] = { cmd: out, args: serve, size: fileSize(out), what: flags.join(" ") || "-" };
  }
  return forms;
}

const TICK_MS = 1000 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim() || 100);
/** CPU time (user + system, all threads) the process `pid` has used so far, from /proc (Linux). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
}

/**
 * Wall-clock milliseconds from spawn to the first "listening" line on stderr, and the CPU time
 * the server used to get there (less disturbed by other load on the machine); then stops it.
 */
function startOnce({ cmd, args }) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd}: no listening line within 30 s: ${log}`));
    }, 30_000);
    child.stderr.on("data", (b) => {
      log += b;
      if (!/\blistening\b/.test(log)) return;
      const ms = performance.now() - t0;
      const cpu = cpuMs(child.pid);
      clearTimeout(timer);
      child.once("exit", () => resolve({ ms, cpu }));
      child.kill("SIGTERM");
    });
    child.on("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (!/\blistening\b/.test(log)) reject(new Error(`${cmd} exited ${code} before listening: ${log}`));
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const load = (l) => l.map((x) => x.toFixed(1)).join(" ");
const loadBefore = load(loadavg());
const forms = argv.includes("--variants") ? variantForms() : releaseForms();
const names = Object.keys(forms);
const times = Object.fromEntries(names.map((n) => [n, []]));
const cpus = Object.fromEntries(names.map((n) => [n, []]));
for (const n of names) await startOnce(forms[n]); // warm the page cache: first runs read from disk
for (let r = 0; r < runs; r++) {
  // Rotate who goes first each round, and reverse every other round.
  const order = names.map((_, i) => names[(i + r) % names.length]);
  if (r % 2) order.reverse();
  for (const n of order) {
    const { ms, cpu } = await startOnce(forms[n]);
    times[n].push(ms);
    cpus[n].push(cpu);
  }
}

const mib = (b) => (b / 1024 / 1024).toFixed(1);
console.log(`start-up to "listening", ${runs} runs each (median, min–max), node ${process.versions.node}`);
console.log(`load average before: ${loadBefore}, after: ${load(loadavg())} (2 shared cores: read the spread)\n`);
const stat = (xs) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
console.log("| form | size (MiB) | counted in size | start to listening, ms | CPU time to listening, ms |");
console.log("|---|---|---|---|---|");
for (const n of names) {
  const f = forms[n];
  console.log(`| ${n} | ${mib(f.size)} | ${f.what} | ${stat(times[n])} | ${stat(cpus[n])} |`);
}
