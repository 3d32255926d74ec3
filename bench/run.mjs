#!/usr/bin/env node
// The benchmark method (docs/benchmarks.md): servers pinned to core 0, the load generator
// (bench/gen.mjs; bench/baseline/stream-client.c for stream throughput) to core 1; server
// CPU from /proc over the measured window at equal offered load; closed loop for throughput and connection set-up; paired runs alternating
// which server goes first; medians with min–max. Rewrites the marked region of
// docs/benchmarks.md.
//   npm run bench            full run (3 paired runs; about 10 minutes)
//   BENCH_QUICK=1 npm run bench   one short run, a sanity check (about 2 minutes)
// Env: BENCH_REPS, BENCH_RUNTIMES (e.g. "node,bun"), BENCH_ONLY (a regex of group ids, e.g.
// "bun/echo|app"), BENCH_NO_WRITE=1 (print only; implied by BENCH_ONLY).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuSeconds, killAll, requireTool, rssBytes, runGenerator, startServer, stopServer } from "./lib/procs.mjs";
import { renderTables, writeDocs } from "./lib/report.mjs";
import { benchCapacity, sockperfClient, startSockperfServer } from "./lib/capacity.mjs";
import { waitForConntrackRoom } from "./lib/conntrack.mjs";
import { bin, buildC, buildDist, root, sbCli, serverFor } from "./lib/servers.mjs";

const quick = process.env.BENCH_QUICK === "1";
const P = {
  reps: Number(process.env.BENCH_REPS ?? (quick ? 1 : 3)),
  warmup: quick ? 0.5 : 1,
  seconds: quick ? 2 : 4,
  conns: 100,
  rate: 20_000,
  appRate: 5_000,
  idleConns: quick ? 300 : 1000,
  streamConns: 8,
  connectConcurrency: 20,
};
const runtimes = (process.env.BENCH_RUNTIMES ?? "node,deno,bun").split(",");
const gen = join(root, "bench/gen.mjs");
const hardStop = setTimeout(() => {
  console.error("bench: gave up after 25 minutes");
  killAll();
  process.exit(1);
}, 25 * 60_000);
hardStop.unref();

// ---- preparation: tools, dist/, the C baseline ----
requireTool("taskset", "to pin the server and the generator to their own cores; Debian package util-linux");
requireTool("gcc", "to build the C baseline bench/baseline/epoll-echo.c");
requireTool("python3", "to run the app protocol reference bench/baseline/app-server.py");
requireTool("sockperf", "Debian's ping-pong tool, the reference for the load generator's own cost");
buildDist();
const cBuild = mkdtempSync(join(tmpdir(), "sb-bench-"));
process.once("exit", () => rmSync(cBuild, { recursive: true, force: true }));
const cEcho = buildC("epoll-echo", cBuild);
// Stream throughput needs a generator faster than any server measured: Node's gen.mjs is not.
const streamGen = [buildC("stream-client", cBuild), []];

/** `switchboard bench` on each runtime (the load generator whose capacity is measured). */
const benchCli = { node: sbCli("node"), deno: sbCli("deno"), bun: sbCli("bun") };
const servers = { c: [cEcho, []], python: serverFor("python") };
for (const rt of ["node", "deno", "bun"]) {
  for (const kind of ["hand", "sb", "sb-lp", "sb-app"]) servers[`${rt}:${kind}`] = serverFor(`${rt}:${kind}`);
}

// ---- scenarios: each starts the server, measures, stops it ----
const limit = (extra = 60) => (P.warmup + P.seconds + extra) * 1000;

/** Server CPU seconds between the generator's start and end lines. */
async function windowCpu(server, args, generator = gen) {
  let c0 = 0, c1 = 0;
  const result = await runGenerator(generator, args, limit(), (line) => {
    if (line === "start") c0 = cpuSeconds(server.pid);
    if (line === "end") c1 = cpuSeconds(server.pid);
  });
  if (result.stuck) {
    throw new Error(
      `${server.label}: ${result.stuck} connections got no reply and no close (a full conntrack table? see dmesg)`,
    );
  }
  if (result.errors) throw new Error(`${server.label}: ${result.errors} connection errors`);
  return { cpu: c1 - c0, result };
}

async function withServer(key, fn) {
  const s = await startServer(servers[key], key);
  try {
    return await fn(s);
  } finally {
    await stopServer(s);
  }
}

const scenarios = {
  /** Open loop at `rate` requests/s: server CPU microseconds per reply. */
  rate: (rate) => (key) =>
    withServer(key, async (s) => {
      const kind = key.endsWith(":sb-lp") ? "lp" : key.endsWith(":sb-app") || key === "python" ? "app" : "echo";
      const args = [
        "rate",
        kind,
        "127.0.0.1",
        String(s.port),
        String(P.conns),
        String(rate),
        String(P.warmup),
        String(P.seconds),
      ];
      const { cpu, result } = await windowCpu(s, args);
      const offered = rate * result.seconds;
      return { value: (cpu / result.replies) * 1e6, kept_up: result.replies / offered };
    }),
  /** Closed loop, 8 connections of 64 KiB writes (the C generator): MiB/s echoed. */
  stream: (key) =>
    withServer(key, async (s) => {
      const args = [
        "127.0.0.1",
        String(s.port),
        String(P.streamConns),
        String(P.warmup),
        String(P.seconds),
        "65536",
      ];
      const { result } = await windowCpu(s, args, streamGen);
      return { value: result.mib_per_s };
    }),
  /** Closed loop of connect, 64 B round trip, close: server CPU microseconds per connection. */
  connect: async (key) => {
    // Room for a run's connections (at most ~15,000 a second) in the kernel's conntrack table.
    const waited = await waitForConntrackRoom(15_000 * (P.warmup + P.seconds));
    if (waited > 0) console.error(`(waited ${(waited / 1000).toFixed(0)} s for room in the conntrack table)`);
    return await withServer(key, async (s) => {
      const args = [
        "connect",
        "127.0.0.1",
        String(s.port),
        String(P.connectConcurrency),
        String(P.warmup),
        String(P.seconds),
      ];
      const { cpu, result } = await windowCpu(s, args);
      return { value: (cpu / result.connections) * 1e6, per_s: result.per_s };
    });
  },
  /** RSS growth per idle connection (each served one 64 B round trip), in bytes. */
  idle: (key) =>
    withServer(key, async (s) => {
      await runGenerator(gen, ["idle", "127.0.0.1", String(s.port), "20"], 60_000, (l, g) =>
        l === "ready" && g.stdin.end());
      const before = rssBytes(s.pid);
      let after = 0;
      await runGenerator(gen, ["idle", "127.0.0.1", String(s.port), String(P.idleConns)], 120_000, (line, g) => {
        if (line !== "ready") {
          return;
        }
        // Let the server settle (read buffers shrink after the first exchange), then sample.
        setTimeout(() => {
          after = rssBytes(s.pid);
          g.stdin.end();
        }, 1000);
      });
      return { value: (after - before) / P.idleConns };
    }),
  /** Closed-loop 64 B round trips against the C server: the generator's own capacity. */
  capacity: (key) =>
    key.startsWith("bench:") // switchboard bench on that runtime, closed loop against the C server
      ? withServer("c", (s) => benchCapacity(benchCli[key.slice(6)], s, P))
      : withServer(key, async (s) => {
        const args = ["pingpong", "127.0.0.1", String(s.port), String(P.conns), String(P.warmup), String(P.seconds)];
        const { cpu, result } = await windowCpu(s, args);
        return { value: result.rps, gen_us: result.gen_cpu_us_per_req, server_us: (cpu / result.round_trips) * 1e6 };
      }),
  /** One connection, next reply as soon as the last is in: the client's cost per round trip. */
  client1: async (key) => {
    if (key !== "sockperf") {
      return await withServer("c", (s) => benchCapacity(benchCli[key.slice(7)], s, { ...P, conns: 1 }));
    }
    const s = await startSockperfServer();
    try {
      return await sockperfClient(s, P);
    } finally {
      await stopServer(s);
    }
  },
};

// The groups measured in every paired run: one scenario, several servers, in alternating order.
const groups = [];
for (const rt of runtimes) {
  // Plain echo, lp:u32 framed echo and the hand-written and C servers at the same offered load.
  groups.push({ id: `${rt}/echo`, run: scenarios.rate(P.rate), keys: [`${rt}:hand`, `${rt}:sb`, `${rt}:sb-lp`, "c"] });
  groups.push({ id: `${rt}/stream`, run: scenarios.stream, keys: [`${rt}:hand`, `${rt}:sb`] });
  groups.push({ id: `${rt}/idle`, run: scenarios.idle, keys: [`${rt}:hand`, `${rt}:sb`] });
  groups.push({ id: `${rt}/connect`, run: scenarios.connect, keys: [`${rt}:hand`, `${rt}:sb`] });
}
// The app protocol at its load, and plain echo at the same load from the C and hand-written
// servers: the floor of CPU per request at that rate, whatever the protocol.
groups.push({
  id: "app",
  run: scenarios.rate(P.appRate),
  keys: ["python", ...runtimes.map((rt) => `${rt}:sb-app`), "c", ...runtimes.map((rt) => `${rt}:hand`)],
});
groups.push({ id: "capacity", run: scenarios.capacity, keys: ["c", ...runtimes.map((rt) => `bench:${rt}`)] });
groups.push({ id: "client1", run: scenarios.client1, keys: ["sockperf", ...runtimes.map((rt) => `bench1:${rt}`)] });

// BENCH_ONLY=REGEX keeps only the matching groups (e.g. "node/echo"): to check one change with repeated paired runs.
const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
if (only) groups.splice(0, groups.length, ...groups.filter((g) => only.test(g.id)));
const started = Date.now();
const runs = []; // one object per rep: { "group|key": measurement }
for (let rep = 0; rep < P.reps; rep++) {
  const got = {};
  for (const g of groups) {
    const keys = rep % 2 === 0 ? g.keys : [...g.keys].reverse();
    for (const key of keys) {
      const m = await g.run(key);
      got[`${g.id}|${key}`] = m;
      console.error(`rep ${rep + 1}/${P.reps} ${g.id} ${key}: ${JSON.stringify(m)}`);
    }
  }
  runs.push(got);
}

const meta = {
  date: new Date().toISOString().slice(0, 10),
  quick,
  params: P,
  runtimes,
  versions: {
    node: process.version.slice(1),
    deno: spawnSync(bin("deno"), ["--version"], { encoding: "utf8" }).stdout.split(/\s+/)[1],
    bun: spawnSync(bin("bun"), ["--version"], { encoding: "utf8" }).stdout.trim(),
    python: spawnSync("python3", ["--version"], { encoding: "utf8" }).stdout.trim().split(" ")[1],
  },
  minutes: ((Date.now() - started) / 60_000).toFixed(1),
};
const rawPath = join(tmpdir(), `switchboard-bench-${Date.now()}.json`);
writeFileSync(rawPath, JSON.stringify({ meta, runs }, null, 2));
const tables = renderTables(meta, runs);
console.log(tables);
console.error(`raw measurements: ${rawPath}`);
if (process.env.BENCH_NO_WRITE !== "1" && !only) {
  writeDocs(join(root, "docs/benchmarks.md"), tables);
  console.error("docs/benchmarks.md updated");
}
clearTimeout(hardStop);
