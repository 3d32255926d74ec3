#!/usr/bin/env node
// serve --workers figures: echo throughput with 1 vs 2 workers (closed-loop ping-pong
// from `switchboard bench` on Bun, the fastest generator; runs alternated), and how long a worker killed with SIGKILL takes to be
// replaced and listening again (the supervisor's own `worker replaced restart_ms=`).
//   npm run build && node bench/workers.mjs [node] [deno] [bun]
// Env: BENCH_REPS (default 3), BENCH_SECONDS (default 3).
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (n) => `${root}node_modules/.bin/${n}`;
const reps = Number(process.env.BENCH_REPS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const runtimes = process.argv.slice(2).length ? process.argv.slice(2) : ["node", "deno", "bun"];
const cli = {
  node: [process.execPath, [`${root}dist/adapters/node/main.js`]],
  deno: [bin("deno"), ["run", "-A", `${root}adapters/deno/main.ts`]],
  bun: [bin("bun"), [`${root}adapters/bun/main.ts`]],
};

/** Start serve with `workers`; resolves once its listening line (json) is out. */
function start(runtime, workers) {
  const [cmd, pre] = cli[runtime];
  const args = [...pre, "serve", "--listen", "127.0.0.1:0", "--workers", String(workers), "--log-format", "json"];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    const lines = [];
    let rest = "";
    const waiters = [];
    const timer = setTimeout(() => reject(new Error(`${runtime}: no listening line`)), 30_000);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text) => {
      rest += text;
      let nl;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const rec = JSON.parse(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
        lines.push(rec);
        for (const w of [...waiters]) if (w.test(rec)) waiters.splice(waiters.indexOf(w), 1), w.resolve(rec);
        if (rec.msg === "listening" && !rec.worker) {
          clearTimeout(timer);
          resolve({
            child,
            port: Number(rec.addr.split(":").at(-1)),
            lines,
            next: (test) => new Promise((res) => waiters.push({ test, resolve: res })),
          });
        }
      }
    });
    child.on("exit", (code) => reject(new Error(`${runtime} exited ${code}`)));
  });
}

async function stop(server) {
  const done = new Promise((r) => server.child.once("exit", r));
  server.child.kill("SIGTERM");
  await done;
}

function pingpong(port) {
  const [cmd, pre] = cli.bun;
  const args = [...pre, "bench", `127.0.0.1:${port}`, "-c", "50", "-d", `${seconds}s`, "--size", "1024", "--json"];
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`switchboard bench failed (exit ${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  return out.throughput_rps;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(
  `| runtime | 1 worker (round trips/s, median) | 2 workers (median) | ratio 2/1 (median of ${reps}, min–max) | restart after SIGKILL (ms, median of ${reps}, min–max) |`,
);
console.log("|---|---|---|---|---|");
for (const runtime of runtimes) {
  const one = [], two = [], ratios = [], restarts = [];
  for (let i = 0; i < reps; i++) {
    const got = {};
    for (const n of i % 2 === 0 ? [1, 2] : [2, 1]) {
      const server = await start(runtime, n);
      got[n] = pingpong(server.port);
      await stop(server);
    }
    one.push(got[1]);
    two.push(got[2]);
    ratios.push(got[2] / got[1]);
    const server = await start(runtime, 2);
    const pid = server.lines.find((r) => r.msg === "worker started" && r.worker === 1).pid;
    const replaced = server.next((r) => r.msg === "worker replaced");
    process.kill(pid, "SIGKILL");
    restarts.push((await replaced).restart_ms);
    await stop(server);
  }
  const range = (xs, d) => `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}`;
  console.log(
    `| ${runtime} | ${median(one).toFixed(0)} | ${median(two).toFixed(0)} | ${median(ratios).toFixed(2)} (${
      range(ratios, 2)
    }) | ${median(restarts)} (${range(restarts, 0)}) |`,
  );
}
