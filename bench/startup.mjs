#!/usr/bin/env node
// Startup time of switchboard executables: from spawn to the first "listening" log line,
// run alternately, several times each, reported as medians. Used to decide whether the
// Docker image's binary is built with --bytecode (docs/distribution.md).
//   node bench/startup.mjs BINARY...        e.g. build/switchboard-min build/switchboard-bytecode
// Env: BENCH_REPS (default 15).
import { spawn } from "node:child_process";
import { statSync } from "node:fs";

const reps = Number(process.env.BENCH_REPS ?? 15);
const binaries = process.argv.slice(2);
if (binaries.length === 0) {
  console.error("usage: node bench/startup.mjs BINARY...");
  process.exit(2);
}

function once(bin) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(bin, ["serve", "--listen", "127.0.0.1:0"], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no listening line from ${bin}: ${log}`));
    }, 20_000);
    child.on("error", reject);
    child.stderr.on("data", (b) => {
      log += b;
      if (log.includes("listening")) {
        const ms = performance.now() - t0;
        clearTimeout(timer);
        child.once("exit", () => resolve(ms));
        child.kill("SIGKILL");
      }
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const times = new Map(binaries.map((b) => [b, []]));
for (let i = 0; i < reps; i++) {
  for (const b of binaries) times.get(b).push(await once(b));
}
for (const b of binaries) {
  const t = times.get(b);
  const mb = (statSync(b).size / 1e6).toFixed(1);
  console.log(
    `${b}: ${mb} MB, median ${median(t).toFixed(1)} ms to "listening" (min ${Math.min(...t).toFixed(1)}, max ${
      Math.max(...t).toFixed(1)
    }, ${t.length} runs)`,
  );
}
