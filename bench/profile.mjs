#!/usr/bin/env node
// Where a server's CPU goes under the benchmark's load, and where two servers differ: the
// profile behind docs/benchmarks.md "Where the remaining gaps are". Each server runs pinned to
// core 0 under bench/gen.mjs on core 1 (as in run.mjs); Linux `perf` samples the server over
// the generator's measured window, with call stacks, and every sample is charged to
//   - the system call it is in (the kernel's work on the process's behalf),
//   - the kernel outside any system call (interrupts, softirq: the network stack's receive side),
//   - the runtime's native code or a library (JavaScriptCore, V8, Bun's or Deno's own code, libc),
//   - JavaScript (jitted code; named from the runtime's perf map),
// and to the nearest JavaScript function above it on the stack ("via"). Figures are server
// CPU microseconds per unit of work (per connection, per reply) in the window.
//   node bench/profile.mjs connect bun:hand bun:sb      connection set-up, two servers compared
//   node bench/profile.mjs echo bun:sb                   64 B echo at 20,000 requests/s
// Modes: connect | echo | lp | app | stream (closed loop, 8 × 64 KiB, per MiB echoed; needs gcc).
// Servers: keys of bench/lib/servers.mjs (bun:hand, node:sb, ...).
// Env: PROFILE_SECONDS (window, default 4), PROFILE_ROWS (rows shown, default 30).
// Needs `perf` (Debian: linux-perf) allowed to sample the kernel too: root, or perf_event_paranoid
// ≤ 1 (at 2 an unprivileged perf leaves the kernel out; the run then warns).
// Bun names jitted code through JavaScriptCore's jitdump (BUN_JSC_useJITDump), turned into a
// perf map here; Node and Deno write the perf map themselves (--perf-basic-prof). Bun's own
// native code has no symbols in the npm build: it shows as one "bun.exe" bucket.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuSeconds, killAll, requireTool, runGenerator, startServer, stopServer } from "./lib/procs.mjs";
import { waitForConntrackRoom } from "./lib/conntrack.mjs";
import { buildC, buildIfNode, root, serverFor } from "./lib/servers.mjs";

const [mode, ...keys] = process.argv.slice(2);
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 4);
const ROWS = Number(process.env.PROFILE_ROWS ?? 30);
const WARMUP = "2"; // seconds of load before the window: perf attaches in the middle of it
/** Per mode: the unit the figures are per, and how many of them the generator's result reports. */
const units = {
  connect: ["connection", (r) => r.connections],
  echo: ["reply", (r) => r.replies],
  lp: ["reply", (r) => r.replies],
  app: ["reply", (r) => r.replies],
  stream: ["MiB echoed", (r) => r.bytes / (1024 * 1024)],
};
/** Per mode: the generator as [program, args], as run.mjs runs it (stream: the C client, closed loop). */
const loads = {
  connect: (port) => gen(["connect", "127.0.0.1", String(port), "20", WARMUP, String(SECONDS)]),
  echo: (port) => gen(["rate", "echo", "127.0.0.1", String(port), "100", "20000", WARMUP, String(SECONDS)]),
  lp: (port) => gen(["rate", "lp", "127.0.0.1", String(port), "100", "20000", WARMUP, String(SECONDS)]),
  app: (port) => gen(["rate", "app", "127.0.0.1", String(port), "100", "5000", WARMUP, String(SECONDS)]),
  stream: (port) => [streamClient, ["127.0.0.1", String(port), "8", WARMUP, String(SECONDS), "65536"]],
};
const gen = (args) => [process.execPath, [join(root, "bench/gen.mjs"), ...args]];
if (!units[mode] || keys.length < 1 || keys.length > 2 || keys.some((k) => !serverFor(k))) {
  console.error("usage: node bench/profile.mjs connect|echo|lp|app|stream SERVER [SERVER]  (e.g. bun:hand bun:sb)");
  process.exit(2);
}
requireTool("perf", "to sample the server's stacks; Debian package linux-perf");
requireTool("taskset", "to pin the server and the generator to their own cores; Debian package util-linux");
if (mode === "stream") requireTool("gcc", "to build the stream client bench/baseline/stream-client.c");
buildIfNode(keys);
const work = mkdtempSync(join(tmpdir(), "sb-profile-"));
const pids = []; // the servers', whose perf maps (/tmp/perf-PID.map) are removed on the way out
process.on("exit", () => {
  for (const pid of pids) rmSync(`/tmp/perf-${pid}.map`, { force: true });
  rmSync(work, { recursive: true, force: true });
});
const streamClient = mode === "stream" ? buildC("stream-client", work) : undefined;

/** Runtime flags (and environment) that make the runtime name its jitted code for perf. */
function perfNaming(key, jitDir) {
  const rt = key.split(":")[0];
  if (rt === "node") return { flags: ["--perf-basic-prof"], env: {} };
  if (rt === "deno") return { flags: ["--v8-flags=--perf-basic-prof"], env: {} };
  if (rt === "bun") return { flags: [], env: { BUN_JSC_useJITDump: "1", BUN_JSC_jitDumpDirectory: jitDir } };
  return { flags: [], env: {} };
}

/** JavaScriptCore's jitdump (perf's jitdump format) as a perf map: one "START SIZE NAME" line per code load. */
function jitdumpToPerfMap(dump, pid) {
  const d = readFileSync(dump);
  const lines = [];
  if (d.length < 16 || d.readUInt32LE(0) !== 0x4a695444) throw new Error(`${dump} is not a jitdump file`);
  for (let off = d.readUInt32LE(8); off + 16 <= d.length;) { // the header's size, then records
    const [id, size] = [d.readUInt32LE(off), d.readUInt32LE(off + 4)];
    // The runtime is still writing the file: its last record may be cut short.
    if (size < 16 || off + size > d.length) break;
    if (id === 0) { // JIT_CODE_LOAD: pid, tid, vma, code address, code size, index, then the name
      const addr = d.readBigUInt64LE(off + 32), codeSize = d.readBigUInt64LE(off + 40);
      const name = d.toString("utf8", off + 56, d.indexOf(0, off + 56));
      lines.push(`${addr.toString(16)} ${codeSize.toString(16)} ${name}`);
    }
    off += size;
  }
  writeFileSync(`/tmp/perf-${pid}.map`, lines.join("\n") + "\n");
}

/** Profiles one server: { units, samples: Map(key → sample count), period (ns) }. */
async function profile(key) {
  if (mode === "connect") await waitForConntrackRoom(15_000 * (SECONDS + Number(WARMUP)));
  const jitDir = mkdtempSync(join(work, "jit-"));
  const naming = perfNaming(key, jitDir);
  Object.assign(process.env, naming.env); // startServer's child inherits it
  const server = await startServer(serverFor(key, naming.flags), key);
  pids.push(server.pid);
  for (const name of Object.keys(naming.env)) delete process.env[name];
  const data = join(work, `${key.replace(":", "-")}.data`);
  // perf attaches one second into the generator's two-second warm-up: by then the runtime has
  // mapped its jitted code (perf learns a process's executable mappings when it attaches;
  // code pages a V8 maps later are unnamed for it), and attaching is done before the measured
  // window opens. Only samples inside the window count: `-k mono` stamps them with
  // CLOCK_MONOTONIC, the clock of process.hrtime.
  let perf;
  let perfDone;
  let perfErr = "";
  const attach = setTimeout(() => {
    // On the generator's core, not the server's.
    perf = spawn("taskset", [
      "-c",
      "1",
      "perf",
      "record",
      "-k",
      "mono",
      "-e",
      "cpu-clock",
      "-F",
      "4000",
      "-g",
      "-p",
      String(server.pid),
      "-o",
      data,
    ], { stdio: ["ignore", "ignore", "pipe"] });
    perf.stderr.on("data", (b) => (perfErr += b));
    perfDone = new Promise((r) => perf.once("exit", (code, sig) => r(code ?? sig)));
  }, 1000);
  const window = [0, 0];
  const cpu = [0, 0]; // /proc's figure for the same window: a check on the sampled total
  try {
    const [program, args] = loads[mode](server.port);
    const result = await runGenerator(
      [program, []],
      args,
      (SECONDS + 60) * 1000,
      (line) => {
        if (line === "start") [window[0], cpu[0]] = [monoSeconds(), cpuSeconds(server.pid)];
        if (line === "end") [window[1], cpu[1]] = [monoSeconds(), cpuSeconds(server.pid)];
      },
    );
    if (!perf) throw new Error(`${key}: the generator ended before perf attached`);
    perf.kill("SIGINT");
    const status = await perfDone;
    // perf ends with the SIGINT it was stopped by, once it has written its file.
    if (status !== 0 && status !== "SIGINT" || !existsSync(data)) {
      throw new Error(`${key}: perf record failed (${status}): ${perfErr.slice(-2000)}`);
    }
    if (/kernel|paranoid/i.test(perfErr)) console.error(`${key}: perf says: ${perfErr.trim()}`);
    if (result.stuck || result.errors) throw new Error(`${key}: ${result.stuck ?? 0} stuck, ${result.errors} errors`);
    const dumps = readdirSync(jitDir).filter((f) => f.endsWith(".dump"));
    if (dumps.length > 0) jitdumpToPerfMap(join(jitDir, dumps[0]), server.pid);
    const n = units[mode][1](result);
    return { units: n, procUs: ((cpu[1] - cpu[0]) * 1e6) / n, ...classify(data, window) };
  } finally {
    clearTimeout(attach);
    if (perf && perf.exitCode === null && perf.signalCode === null) {
      perf.kill("SIGINT");
      await perfDone;
    }
    await stopServer(server);
  }
}

const monoSeconds = () => Number(process.hrtime.bigint()) / 1e9;

/** Each sample inside `window` (CLOCK_MONOTONIC seconds) → "what ran | via JS function", counted. */
function classify(data, [from, to]) {
  const script = spawnSync("perf", ["script", "-i", data, "-F", "time,period,ip,sym,dso"], {
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  if (script.status !== 0) throw new Error(`perf script failed: ${script.stderr}`);
  const samples = new Map();
  let period = 0;
  for (const block of script.stdout.split("\n\n")) {
    const lines = block.split("\n").filter((l) => l.trim());
    if (lines.length < 2) continue;
    const [time, samplePeriod] = lines[0].trim().split(/:?\s+/).map(Number);
    if (time < from || time > to) continue;
    period ||= samplePeriod;
    const frames = lines.slice(1).map((l) => {
      const m = /^\s*[0-9a-f]+ (.*) \((.*)\)$/.exec(l);
      return m ? { sym: m[1].replace(/\+0x[0-9a-f]+$/, ""), dso: m[2] } : { sym: "?", dso: "?" };
    });
    const key = `${whatRan(frames)} | ${viaJs(frames)}`;
    samples.set(key, (samples.get(key) ?? 0) + 1);
  }
  return { samples, period };
}

const isJs = (f) => /\/perf-\d+\.map$|\[JIT\]/.test(f.dso);

function whatRan(frames) {
  // The system call is the frame do_syscall_64 called (its name varies: __x64_sys_sendto,
  // ksys_write, __do_sys_...; x64_sys_call is the dispatcher between them on newer kernels).
  let i = frames.findIndex((f) => f.sym === "do_syscall_64");
  if (i === 0) return "syscall entry and exit (any call)";
  while (i > 0 && frames[i - 1].sym === "x64_sys_call") i--;
  if (i > 0) {
    const sym = frames[i - 1].sym;
    // Samples the hypervisor delivers when interrupts come back on, at entry or exit.
    if (/irq_enable|exit_to_user_mode|syscall_exit/.test(sym)) return "syscall entry and exit (any call)";
    return `syscall ${sym.replace(/^(__x64_sys_|__se_sys_|__do_sys_|ksys_|__sys_)/, "")}`;
  }
  const top = frames[0];
  if (top.dso.includes("kernel")) return "kernel, no syscall (interrupts, softirq)";
  if (isJs(top)) return "JavaScript";
  const lib = top.dso.split("/").pop();
  return `native ${lib}`;
}

function viaJs(frames) {
  for (const f of frames) {
    if (!isJs(f) || f.sym === "[unknown]" || /Thunk/.test(f.sym)) continue;
    // JSC: "JSC-FTL: name#hash"; V8: "JS:*name file:line:col" or "LazyCompile:..."
    return f.sym.replace(/^JSC-\w+: /, "").replace(/#\w+$/, "").replace(/^(JS|LazyCompile):[*~^]?/, "") ||
      "(anonymous)";
  }
  return "-";
}

// ---- run and report ----
const results = [];
for (const key of keys) {
  const r = await profile(key);
  results.push(r);
  console.error(`${key}: ${r.units.toFixed(0)} × ${units[mode][0]} profiled`);
  if (![...r.samples.keys()].some((k) => k.startsWith("syscall"))) {
    console.error(`${key}: no kernel samples: perf may not be allowed to sample the kernel (see the header)`);
  }
}
const perUnit = (r, n) => (n * r.period) / 1000 / r.units; // µs per unit
const rowKeys = new Set(results.flatMap((r) => [...r.samples.keys()]));
const rows = [...rowKeys].map((k) => ({ k, v: results.map((r) => perUnit(r, r.samples.get(k) ?? 0)) }));
const delta = (v) => (v.length === 2 ? v[1] - v[0] : v[0]); // what is sorted by: the difference, or the figure
rows.sort((a, b) => Math.abs(delta(b.v)) - Math.abs(delta(a.v)));
/** Totals by what ran (the first column), summed over "via". */
const byWhat = new Map();
for (const row of rows) {
  const what = row.k.split(" | ")[0];
  const sum = byWhat.get(what) ?? results.map(() => 0);
  byWhat.set(what, sum.map((x, i) => x + row.v[i]));
}
const fmt = (x) => x.toFixed(2).padStart(7);
const head = keys.map((k) => k.padStart(9)).join(" ") + (keys.length === 2 ? "     diff" : "");
const unit = units[mode][0];
const line = (label, v) => `${v.map(fmt).join("  ")}${v.length === 2 ? "  " + fmt(v[1] - v[0]) : ""}  ${label}`;
console.log(`server CPU µs per ${unit} (${mode}, ${SECONDS} s window, perf cpu-clock samples)`);
console.log(`\nby what ran\n${head}`);
const whats = [...byWhat.entries()].sort((a, b) => Math.abs(delta(b[1])) - Math.abs(delta(a[1])));
for (const [what, v] of whats.slice(0, ROWS)) console.log(line(what, v));
console.log(line("total", results.map((r) => perUnit(r, [...r.samples.values()].reduce((a, b) => a + b, 0)))));
console.log(line("total from /proc (utime + stime, in clock ticks)", results.map((r) => r.procUs)));
console.log(`\nby what ran | nearest JavaScript function above it ("-": none found on the stack)\n${head}`);
for (const row of rows.slice(0, ROWS)) console.log(line(row.k, row.v));
killAll();
