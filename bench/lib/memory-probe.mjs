// Preloaded into a server by bench/memory-profile.mjs (node --import, deno --preload,
// bun --preload): on SIGUSR2 it collects garbage and prints one line to stderr,
// `memory {"rss":…,"heapTotal":…,"heapUsed":…,"external":…}` (bytes).
const deno = globalThis.Deno;
const bun = globalThis.Bun;

function collect() {
  if (bun) bun.gc(true);
  else globalThis.gc?.(); // node --expose-gc, deno --v8-flags=--expose-gc
}

function report() {
  collect();
  const m = deno ? deno.memoryUsage() : globalThis.process.memoryUsage();
  const line = JSON.stringify({ rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external });
  console.error(`memory ${line}`);
}

if (deno) deno.addSignalListener("SIGUSR2", report);
else globalThis.process.on("SIGUSR2", report);
