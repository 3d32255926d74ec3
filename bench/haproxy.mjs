#!/usr/bin/env node
// Figures for docs/deploy.md: switchboard behind a real HAProxy (send-proxy-v2, leastconn,
// checks every 200 ms) with three instances (node, deno, bun), against one instance direct.
//   npx tsc -p tsconfig.build.json && node bench/haproxy.mjs
// Env: BENCH_SECONDS (default 3), BENCH_CONNS (default 16).
// Prints: echo round trips/s over persistent connections and new connections/s (one echo
// each), direct vs through HAProxy; clients failed by a SIGKILL of one instance under
// load; SIGTERM-to-exit time of a drain with --drain-delay 1s and the client failures.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const conns = Number(process.env.BENCH_CONNS ?? 16);
if (spawnSync("haproxy", ["-v"]).status !== 0) {
  console.error("bench/haproxy.mjs needs HAProxy (apt-get install haproxy)");
  process.exit(1);
}
const cli = {
  node: [process.execPath, [`${root}dist/adapters/node/main.js`]],
  deno: [`${root}node_modules/.bin/deno`, ["run", "-A", `${root}adapters/deno/main.ts`]],
  bun: [`${root}node_modules/.bin/bun`, [`${root}adapters/bun/main.ts`]],
};
const until = async (cond, what, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

function serve(rt, port = 0, extra = []) {
  const [cmd, pre] = cli[rt];
  const args = ["serve", "--service", "echo", "--framing", "line", "--listen", `127.0.0.1:${port}`, ...extra];
  const child = spawn(cmd, [...pre, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.on("data", (b) => (log += b));
  const exited = new Promise((r) => child.on("close", (code) => r(code)));
  return until(() => /listening addr=127\.0\.0\.1:(\d+)/.test(log), `${rt} to listen`).then(() => ({
    child,
    exited,
    port: Number(/listening addr=127\.0\.0\.1:(\d+)/.exec(log)[1]),
  }));
}

const freePort = () =>
  new Promise((r) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => r(p));
    });
  });

async function haproxy(servers) {
  const dir = mkdtempSync(join(tmpdir(), "sb-bench-haproxy-"));
  const port = await freePort();
  const cfg = [
    "global",
    `  stats socket ${dir}/stats.sock mode 600 level admin`,
    "  maxconn 4000",
    "defaults",
    "  mode tcp",
    "  timeout connect 1s",
    "  timeout client 10s",
    "  timeout server 10s",
    "  retries 3",
    "  option redispatch 1",
    "frontend fe",
    `  bind 127.0.0.1:${port}`,
    "  default_backend be",
    "backend be",
    "  balance leastconn",
    "  option tcp-check",
    "  tcp-check send health\\n",
    "  tcp-check expect string health",
    ...servers.map((s, i) => `  server s${i + 1} 127.0.0.1:${s.port} send-proxy-v2 check inter 200ms fall 2 rise 2`),
    "",
  ].join("\n");
  writeFileSync(`${dir}/haproxy.cfg`, cfg);
  const child = spawn("haproxy", ["-db", "-f", `${dir}/haproxy.cfg`], { stdio: "ignore" });
  const stat = () =>
    new Promise((r) => {
      const c = net.createConnection(`${dir}/stats.sock`);
      let out = "";
      c.on("data", (d) => (out += d));
      c.on("error", () => r(""));
      c.on("close", () => r(out));
      c.end("show stat\n");
    });
  const status = async (name) => (await stat()).split("\n").find((l) => l.startsWith(`be,${name},`))?.split(",")[17];
  for (let i = 0; i < servers.length; i++) await until(async () => (await status(`s${i + 1}`)) === "UP", "UP");
  return { port, status, stop: () => (child.kill("SIGTERM"), rmSync(dir, { recursive: true, force: true })) };
}

/** Round trips of one line over `n` persistent connections for `secs`. */
async function pingpong(port, n, secs) {
  let count = 0;
  const end = Date.now() + secs * 1000;
  await Promise.all(Array.from({ length: n }, () =>
    new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.setNoDelay(true);
      s.on("connect", () => s.write("x".repeat(63) + "\n"));
      s.on("data", () => {
        count++;
        if (Date.now() < end) s.write("x".repeat(63) + "\n");
        else s.end();
      });
      s.on("close", resolve);
    })));
  return Math.round(count / secs);
}

/** One echo per connection, `n` at a time; with `stopAt` returning true the loop ends. */
function churn(port, n, stop) {
  const out = { ok: 0, failed: 0 };
  const one = () =>
    new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      let got = "";
      const t = setTimeout(() => s.destroy(new Error("timeout")), 5000);
      s.on("connect", () => s.write("hello\n"));
      s.on("data", (d) => {
        got += d;
        if (got === "hello\n") (out.ok++, (got = "done"), s.end());
      });
      s.on("error", () => {});
      s.on("close", () => {
        clearTimeout(t);
        if (got !== "done") out.failed++;
        resolve();
      });
    });
  const done = Promise.all(Array.from({ length: n }, async () => {
    while (!stop()) await one();
  }));
  return { out, done };
}

async function connRate(port, n, secs) {
  const end = Date.now() + secs * 1000;
  const c = churn(port, n, () => Date.now() > end);
  await c.done;
  return Math.round(c.out.ok / secs);
}

const proxyArgs = ["--proxy-protocol", "--proxy-trusted", "127.0.0.1", "--drain-delay", "1s"];
const direct = await serve("node");
const res = { seconds, conns };
res.direct_roundtrips_per_s = await pingpong(direct.port, conns, seconds);
res.direct_conns_per_s = await connRate(direct.port, 4, seconds);
direct.child.kill("SIGTERM");
await direct.exited;

const inst = [await serve("node", 0, proxyArgs), await serve("deno", 0, proxyArgs), await serve("bun", 0, proxyArgs)];
const hp = await haproxy(inst);
res.haproxy_roundtrips_per_s = await pingpong(hp.port, conns, seconds);
res.haproxy_conns_per_s = await connRate(hp.port, 4, seconds);

// SIGKILL one instance under a churn of one-echo connections.
let stopping = false;
let load = churn(hp.port, 4, () => stopping);
await until(() => load.out.ok > 500, "load");
inst[0].child.kill("SIGKILL");
await until(async () => (await hp.status("s1"))?.startsWith("DOWN"), "s1 DOWN");
const okAtDown = load.out.ok;
await until(() => load.out.ok > okAtDown + 500, "load after DOWN");
stopping = true;
await load.done;
res.kill = { connections: load.out.ok + load.out.failed, failed: load.out.failed };

// SIGTERM another: fail checks for --drain-delay, then drain.
stopping = false;
load = churn(hp.port, 4, () => stopping);
await until(() => load.out.ok > 500, "load");
const t0 = performance.now();
inst[1].child.kill("SIGTERM");
const code = await inst[1].exited;
res.drain = { exit_code: code, sigterm_to_exit_ms: Math.round(performance.now() - t0) };
const okAtExit = load.out.ok;
await until(() => load.out.ok > okAtExit + 500, "load after drain");
stopping = true;
await load.done;
res.drain.connections = load.out.ok + load.out.failed;
res.drain.failed = load.out.failed;

hp.stop();
for (const i of inst) i.child.kill("SIGTERM");
console.log(JSON.stringify(res, null, 2));
