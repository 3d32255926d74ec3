#!/usr/bin/env node
// TLS benchmark, ratios in one run (alternating which server goes first):
//  - switchboard's TLS echo against its plain echo on the same runtime (what TLS costs);
//  - switchboard's TLS echo against a hand-written TLS echo on the same runtime's own TLS
//    API (bench/baseline/*-tls-echo.*): what switchboard adds on top of TLS;
//  - handshakes per second (a new connection, a full handshake, one 64-byte echo).
// Load for every server, plain and TLS alike: `switchboard bench` on Bun (the fastest
// generator; docs/bench.md), its own process, with --json.
//   npm run build && node bench/tls.mjs [node] [deno] [bun]
// Env: BENCH_REPS (default 3), BENCH_SECONDS (default 3). Certificates: openssl, temp dir.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (n) => `${root}node_modules/.bin/${n}`;
const reps = Number(process.env.BENCH_REPS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const runtimes = process.argv.slice(2).length ? process.argv.slice(2) : ["node", "deno", "bun"];

const dir = mkdtempSync(join(tmpdir(), "sb-tls-bench-"));
process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
const ossl = (args) => {
  const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`openssl ${args[0]} failed (the benchmark needs openssl): ${r.stderr ?? r.error}`);
  }
};
const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
ossl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=bench CA", "-days", "2"]);
ossl(["req", ...ec, "-keyout", "key.pem", "-out", "s.csr", "-subj", "/CN=localhost"]);
writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
ossl([
  "x509",
  "-req",
  "-in",
  "s.csr",
  "-CA",
  "ca.pem",
  "-CAkey",
  "ca.key",
  "-CAcreateserial",
  "-days",
  "2",
  "-extfile",
  "san.ext",
  "-out",
  "cert.pem",
]);
const [CA, CERT, KEY] = ["ca.pem", "cert.pem", "key.pem"].map((f) => join(dir, f));
const TLS_FLAGS = ["--tls-cert", CERT, "--tls-key", KEY];
const LISTEN = ["serve", "--listen", "127.0.0.1:0"];

const cli = {
  node: [process.execPath, [`${root}dist/adapters/node/main.js`]],
  deno: [bin("deno"), ["run", "-A", `${root}adapters/deno/main.ts`]],
  bun: [bin("bun"), [`${root}adapters/bun/main.ts`]],
};
const baseline = {
  node: [process.execPath, [`${root}bench/baseline/node-tls-echo.mjs`, CERT, KEY]],
  deno: [bin("deno"), ["run", "-A", `${root}bench/baseline/deno-tls-echo.ts`, CERT, KEY]],
  bun: [bin("bun"), [`${root}bench/baseline/bun-tls-echo.ts`, CERT, KEY]],
};
const servers = (rt) => ({
  plain: { cmd: [cli[rt][0], [...cli[rt][1], ...LISTEN]], tls: false },
  tls: { cmd: [cli[rt][0], [...cli[rt][1], ...LISTEN, ...TLS_FLAGS]], tls: true },
  baseline: { cmd: baseline[rt], tls: true },
});

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

/** One `switchboard bench` run on Bun; every reply is verified, so any error fails the benchmark. */
function load(tls, mode, port, conns, size) {
  const [cmd, pre] = cli.bun;
  const args = [...pre, "bench", `127.0.0.1:${port}`, "--mode", mode, "-c", String(conns), "-d", `${seconds}s`];
  args.push("--size", String(size), "--json", ...(tls ? ["--tls", "--tls-ca", CA] : []));
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) {
    const why = r.stdout ? JSON.parse(r.stdout).error_examples.join("; ") : r.stderr;
    throw new Error(`switchboard bench ${mode} failed (exit ${r.status}): ${why}`);
  }
  return JSON.parse(r.stdout);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const span = (xs) => `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
const f = (x) => x.toFixed(x >= 100 ? 0 : 1);
const scenarios = [
  {
    name: "ping-pong 1 KiB, 50 conns (round trips/s)",
    mode: "echo",
    conns: 50,
    size: 1024,
    metric: (r) => r.throughput_rps,
    which: ["plain", "tls", "baseline"],
  },
  {
    name: "stream 64 KiB writes, 8 conns (MiB/s echoed)",
    mode: "stream",
    conns: 8,
    size: 65536,
    metric: (r) => r.bytes_in / r.duration_s / 1048576, // bytes echoed back
    which: ["plain", "tls", "baseline"],
  },
  {
    name: "handshakes + one 64 B echo, 8 workers (per s)",
    mode: "connect", // a full handshake per request: bench passes no session
    conns: 8,
    size: 64,
    metric: (r) => r.throughput_rps,
    which: ["tls", "baseline"],
  },
];

console.log(
  `| runtime | scenario | plain (median) | TLS (median) | hand-written TLS (median) | TLS/plain | TLS/hand-written TLS (median of ${reps}, min–max) |`,
);
console.log("|---|---|---|---|---|---|---|");
for (const rt of runtimes) {
  const sv = servers(rt);
  for (const sc of scenarios) {
    const got = { plain: [], tls: [], baseline: [] }, vsPlain = [], vsBase = [];
    for (let i = 0; i < reps; i++) {
      const order = i % 2 === 0 ? sc.which : [...sc.which].reverse();
      const one = {};
      for (const which of order) {
        const { child, port } = await start(sv[which].cmd);
        let r;
        try {
          r = load(sv[which].tls, sc.mode, port, sc.conns, sc.size);
        } catch (err) {
          throw new Error(`${which} on ${rt}: ${err.message}`);
        } finally {
          child.kill("SIGKILL");
        }
        one[which] = sc.metric(r);
        got[which].push(one[which]);
      }
      if (one.plain !== undefined) vsPlain.push(one.tls / one.plain);
      vsBase.push(one.tls / one.baseline);
    }
    console.log(
      `| ${rt} | ${sc.name} | ${got.plain.length ? f(median(got.plain)) : "–"} | ${f(median(got.tls))} | ${
        f(median(got.baseline))
      } | ${vsPlain.length ? span(vsPlain) : "–"} | ${span(vsBase)} |`,
    );
  }
}
