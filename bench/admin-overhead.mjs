// What the admin endpoint costs the data path: server CPU time per request (utime + stime
// from /proc/PID/stat) for the same offered work, with and without `--admin`, while
// /metrics is scraped every 200 ms (Prometheus' default is every 15 s: this is harsher).
//
//   npm run build && node bench/admin-overhead.mjs [node|deno|bun ...]
//   (BENCH_REPS=5, BENCH_ROUNDS=1000, BENCH_CHURN=3000)
//
// Two fixed workloads from this process (exactly the same requests in both modes):
//   pingpong: 50 connections, each doing BENCH_ROUNDS round trips of 64 bytes;
//   churn:    BENCH_CHURN connections, 20 at a time, each sending 64 bytes, half-closing and
//             reading its echo (counting happens once per closed connection: its worst case).
// Three modes: plain (no --admin: no counting at all), --admin never asked, --admin scraped.
// The order rotates every round; prints per-run figures and, per
// runtime and workload, the median CPU µs per request of each mode and their ratio; then
// the CPU of one /metrics scrape on an idle, warmed-up server (500 scrapes).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = `${ROOT}node_modules/.bin/`;
const REPS = Number(process.env.BENCH_REPS ?? 5);
/** Round trips per ping-pong connection, and connections in the churn workload: the same work for both modes. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1000);
const CHURN = Number(process.env.BENCH_CHURN ?? 3000);
/** Scrape interval: far more often than Prometheus would (15 s by default), to make the cost visible. */
const SCRAPE_MS = 200;
const runtimes = process.argv.slice(2).length ? process.argv.slice(2) : ["node", "deno", "bun"];
const TICKS_PER_SECOND = 100; // USER_HZ: the unit of utime/stime in /proc/PID/stat on Linux
const payload = Buffer.alloc(64, 0x61);

function command(runtime) {
  if (runtime === "node") return [process.execPath, [`${ROOT}dist/adapters/node/main.js`]];
  if (runtime === "bun") return [`${BIN}bun`, [`${ROOT}adapters/bun/main.ts`]];
  return [`${BIN}deno`, ["run", "-A", `${ROOT}adapters/deno/main.ts`]];
}

function start(runtime, admin) {
  const [cmd, pre] = command(runtime);
  const args = [...pre, "serve", "--listen", "127.0.0.1:0"];
  if (admin) args.push("--admin", "127.0.0.1:0");
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${runtime} did not start:\n${log}`)), 20_000);
    child.stderr.on("data", (b) => {
      log += b;
      const port = / listening addr=127\.0\.0\.1:(\d+)/.exec(log)?.[1];
      const adminAt = /admin=(\S+)/.exec(log)?.[1];
      if (port && (!admin || adminAt)) {
        clearTimeout(timer);
        resolve({ child, port: Number(port), admin: adminAt });
      }
    });
  });
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** 50 connections, each doing ROUNDS ping-pong round trips of 64 bytes. */
function pingpong(port) {
  return Promise.all(Array.from({ length: 50 }, () =>
    new Promise((resolve) => {
      let rounds = 0, waiting = 0;
      const s = net.connect({ host: "127.0.0.1", port }, () => send());
      s.setNoDelay(true);
      const send = () => {
        if (rounds++ === ROUNDS) return s.end();
        waiting = payload.length;
        s.write(payload);
      };
      s.on("data", (b) => {
        waiting -= b.length;
        if (waiting === 0) send();
      });
      s.on("error", () => {});
      s.on("close", () => resolve(rounds - 1));
    }))).then((r) => r.reduce((a, b) => a + b, 0));
}

/** CHURN connections, 20 at a time, each sending 64 bytes, half-closing and reading its echo. */
async function churn(port) {
  let next = 0, done = 0;
  const one = () =>
    new Promise((resolve) => {
      let got = 0;
      const s = net.connect({ host: "127.0.0.1", port }, () => s.end(payload));
      s.on("data", (b) => (got += b.length));
      s.on("error", () => {});
      s.on("close", () => {
        if (got === payload.length) done++;
        resolve();
      });
    });
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (next++ < CHURN) await one();
  }));
  return done;
}

/** mode: "plain" (no --admin), "admin" (--admin, never asked), "scraped" (--admin, /metrics every SCRAPE_MS). */
async function run(runtime, workload, mode) {
  const admin = mode !== "plain";
  const server = await start(runtime, admin);
  let scrapes = 0;
  const scraper = mode === "scraped"
    ? setInterval(() => {
      fetch(`http://${server.admin}/metrics`).then((r) => r.text()).then(() => scrapes++, () => {});
    }, SCRAPE_MS)
    : undefined;
  const cpu0 = cpuSeconds(server.child.pid);
  const started = performance.now();
  const requests = await (workload === "pingpong" ? pingpong : churn)(server.port);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(server.child.pid) - cpu0;
  clearInterval(scraper);
  server.child.kill("SIGTERM");
  await new Promise((res) => server.child.on("close", res));
  const usPerRequest = (cpu / requests) * 1e6;
  console.log(JSON.stringify({ runtime, workload, mode, requests, seconds, cpuSeconds: cpu, scrapes, usPerRequest }));
  return usPerRequest;
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const MODES = ["plain", "admin", "scraped"];
const rows = [];
for (const runtime of runtimes) {
  for (const workload of ["pingpong", "churn"]) {
    const us = { plain: [], admin: [], scraped: [] };
    for (let i = 0; i < REPS; i++) {
      // Rotate the order so that no mode always runs first (or last) in a round.
      const order = MODES.map((_, k) => MODES[(k + i) % MODES.length]);
      for (const mode of order) us[mode].push(await run(runtime, workload, mode));
    }
    const m = Object.fromEntries(MODES.map((mode) => [mode, median(us[mode])]));
    rows.push({ runtime, workload, ...m });
  }
}
/** CPU of one /metrics scrape on an idle, warmed-up server (ms): what each Prometheus scrape costs. */
async function scrapeCost(runtime) {
  const server = await start(runtime, true);
  const scrape = async () => await (await fetch(`http://${server.admin}/metrics`)).text();
  for (let i = 0; i < 20; i++) await scrape(); // warm-up: the first scrapes load and compile the HTTP stack
  const cpu0 = cpuSeconds(server.child.pid);
  for (let i = 0; i < 500; i++) await scrape();
  const ms = ((cpuSeconds(server.child.pid) - cpu0) / 500) * 1000;
  server.child.kill("SIGTERM");
  await new Promise((res) => server.child.on("close", res));
  return ms;
}
const scrapeMs = {};
for (const runtime of runtimes) scrapeMs[runtime] = await scrapeCost(runtime);

console.log(
  "\n| runtime | workload | CPU µs/request: plain | --admin | --admin, scraped every 200 ms | ratio admin/plain | ratio scraped/plain |",
);
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${r.runtime} | ${r.workload} | ${r.plain.toFixed(1)} | ${r.admin.toFixed(1)} | ${r.scraped.toFixed(1)} | ${
      (r.admin / r.plain).toFixed(2)
    } | ${(r.scraped / r.plain).toFixed(2)} |`,
  );
}
console.log("\n| runtime | CPU per /metrics scrape, warm (ms) |\n|---|---|");
for (const runtime of runtimes) console.log(`| ${runtime} | ${scrapeMs[runtime].toFixed(2)} |`);
