#!/usr/bin/env node
// Echo benchmark: switchboard's echo service against a minimal hand-written echo server
// on the same runtime, run alternately in the same script, reported as ratios.
//   npm run build && node bench/echo.mjs [node] [deno] [bun]
// Env: BENCH_REPS (default 3), BENCH_SECONDS (default 3).
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (n) => `${root}node_modules/.bin/${n}`;
const reps = Number(process.env.BENCH_REPS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const runtimes = process.argv.slice(2).length ? process.argv.slice(2) : ["node", "deno", "bun"];

const servers = {
  node: {
    switchboard: [process.execPath, [`${root}dist/adapters/node/main.js`, "serve", "--listen", "127.0.0.1:0"]],
    baseline: [process.execPath, [`${root}bench/baseline/node-echo.mjs`]],
  },
  deno: {
    switchboard: [bin("deno"), ["run", "-A", `${root}adapters/deno/main.ts`, "serve", "--listen", "127.0.0.1:0"]],
    baseline: [bin("deno"), ["run", "-A", `${root}bench/baseline/deno-echo.ts`]],
  },
  bun: {
    switchboard: [bin("bun"), [`${root}adapters/bun/main.ts`, "serve", "--listen", "127.0.0.1:0"]],
    baseline: [bin("bun"), [`${root}bench/baseline/bun-echo.ts`]],
  },
};

function start([cmd, args]) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    const timer = setTimeout(() => reject(new Error(`no listening line from ${cmd}: ${log}`)), 20_000);
    child.stderr.on("data", (b) => {
      log += b;
      const m = /listening .*?addr=127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.on("exit", (code) => reject(new Error(`${cmd} exited ${code}: ${log}`)));
  });
}

function load(mode, port, conns, size) {
  const r = spawnSync(process.execPath, [
    `${root}bench/load.mjs`,
    mode,
    "127.0.0.1",
    String(port),
    String(conns),
    String(seconds),
    String(size),
  ], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`load generator failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const scenarios = [
  {
    name: "ping-pong 1 KiB, 50 conns (round trips/s)",
    mode: "pingpong",
    conns: 50,
    size: 1024,
    metric: "roundTripsPerSec",
  },
  { name: "stream 64 KiB writes, 8 conns (MiB/s echoed)", mode: "stream", conns: 8, size: 65536, metric: "mibPerSec" },
];

console.log(
  `| runtime | scenario | baseline (median) | switchboard (median) | ratio switchboard/baseline (median of ${reps} paired runs, min–max) |`,
);
console.log("|---|---|---|---|---|");
for (const runtime of runtimes) {
  for (const sc of scenarios) {
    const base = [], sb = [], ratios = [];
    for (let i = 0; i < reps; i++) {
      // Alternate which server goes first so drift in machine speed cancels out.
      const order = i % 2 === 0 ? ["baseline", "switchboard"] : ["switchboard", "baseline"];
      const got = {};
      for (const which of order) {
        const { child, port } = await start(servers[runtime][which]);
        const r = load(sc.mode, port, sc.conns, sc.size);
        child.kill("SIGKILL");
        if (r.errors) throw new Error(`${which} on ${runtime}: ${r.errors} connection errors`);
        got[which] = r[sc.metric];
      }
      base.push(got.baseline);
      sb.push(got.switchboard);
      ratios.push(got.switchboard / got.baseline);
    }
    const f = (x) => x.toFixed(x >= 100 ? 0 : 1);
    console.log(
      `| ${runtime} | ${sc.name} | ${f(median(base))} | ${f(median(sb))} | ${median(ratios).toFixed(2)} (${
        Math.min(...ratios).toFixed(2)
      }–${Math.max(...ratios).toFixed(2)}) |`,
    );
  }
}
