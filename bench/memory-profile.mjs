#!/usr/bin/env node
// Where an idle connection's memory goes: the companion of run.mjs's idle figure (RSS growth
// per idle connection), split by the runtime's own accounting. Each server runs with
// bench/lib/memory-probe.mjs preloaded; after 20 warm-up connections and again with N more
// idle connections open (each served one 64 B round trip, as in run.mjs), it collects garbage
// and reports its memory. Per connection:
//   rss        resident memory (what run.mjs measures, here after a full garbage collection)
//   js heap    the JavaScript heap in use (objects: connection state, promises, closures)
//   external   memory outside the heap that the engine tracks (ArrayBuffers: read buffers)
//   rest       rss − js heap − external: the runtime's native per-socket state (Bun's and
//              Deno's own socket objects), the heap's free space and the allocator's overhead;
//              negative when a buffer counted as external is not all resident (untouched pages)
//   heap free  heap committed but not in use (part of rest when resident), shown to bound it
//   node bench/memory-profile.mjs deno:hand deno:sb        (N = 1000; env IDLE_CONNS)
import { runGenerator, startServer, stopServer } from "./lib/procs.mjs";
import { buildIfNode, root, serverFor } from "./lib/servers.mjs";
import { join } from "node:path";

const keys = process.argv.slice(2);
const N = Number(process.env.IDLE_CONNS ?? 1000);
if (keys.length === 0 || keys.some((k) => !serverFor(k) || k === "python")) {
  console.error("usage: node bench/memory-profile.mjs SERVER...  (e.g. deno:hand deno:sb)");
  process.exit(2);
}
buildIfNode(keys);
const probe = join(root, "bench/lib/memory-probe.mjs");
const gen = join(root, "bench/gen.mjs");

/** The runtime flags that preload the probe and expose the garbage collector. */
function probeFlags(key) {
  const rt = key.split(":")[0];
  if (rt === "node") return ["--expose-gc", "--import", probe];
  if (rt === "deno") return ["--v8-flags=--expose-gc", "--preload", probe];
  return ["--preload", probe];
}

/** Sends SIGUSR2 and resolves with the probe's next `memory` line. */
function sample(server) {
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`${server.label}: no memory line within 10 s`)), 10_000);
    const onData = (b) => {
      log += b;
      const m = /memory (\{.*\})\n/.exec(log);
      if (!m) return;
      clearTimeout(timer);
      server.child.stderr.off("data", onData);
      resolve(JSON.parse(m[1]));
    };
    server.child.stderr.on("data", onData);
    server.child.kill("SIGUSR2");
  });
}

/** Holds `n` idle connections while `whileHeld` runs; fails with its error if it fails. */
async function holdIdle(server, n, whileHeld) {
  let failure;
  await runGenerator(gen, ["idle", "127.0.0.1", String(server.port), String(n)], 120_000, (line, g) => {
    if (line === "ready") whileHeld().catch((e) => (failure = e)).finally(() => g.stdin.end());
  });
  if (failure) throw failure;
}

const rows = [];
for (const key of keys) {
  const server = await startServer(serverFor(key, probeFlags(key)), key);
  try {
    await holdIdle(server, 20, async () => {}); // warm-up: the first connections' one-off costs
    const before = await sample(server);
    let after;
    await holdIdle(server, N, async () => {
      await new Promise((r) => setTimeout(r, 1000)); // read buffers shrink after the first exchange
      after = await sample(server);
    });
    const per = (f) => (after[f] - before[f]) / N;
    rows.push({
      key,
      rss: per("rss"),
      heap: per("heapUsed"),
      heapFree: per("heapTotal") - per("heapUsed"),
      external: per("external"),
      rest: per("rss") - per("heapUsed") - per("external"),
    });
  } finally {
    await stopServer(server);
  }
}
const kb = (x) => (x / 1024).toFixed(1).padStart(8);
console.log(`bytes per idle connection (${N} connections, after a full garbage collection), in KB`);
console.log("server        rss  js heap external     rest  (heap free)");
for (const r of rows) {
  console.log(
    `${r.key.padEnd(9)}${kb(r.rss)} ${kb(r.heap)} ${kb(r.external)} ${kb(r.rest)}  (${kb(r.heapFree).trim()})`,
  );
}
