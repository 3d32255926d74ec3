// Host services on Bun: Bun's own stdio and file APIs, plus `process` (which Bun
// implements) for signals, argv, env, memory and exit.
//
// Bun behaviours absorbed here (Bun 1.4.5):
//  - concurrent Bun.write(Bun.stdout, …) calls interleave, and Bun.write misplaces data
//    when stdout is a file opened for append (`>>`); an incremental FileSink writer
//    (Bun.stdout.writer()) does neither, so output goes through one writer per stream,
//    one write at a time (awaiting write()'s promise: flush() alone does not wait);
//  - a write to a closed pipe rejects (EPIPE) rather than crashing: swallowed, since
//    logging must never kill the server.

import { readFileSync } from "node:fs";
import { stat, writeFile } from "node:fs/promises";
import { parseOpenFileLimit } from "../../src/adapter-kit/fd-limit.ts";
import { archName, platformName } from "../../src/platform.ts";
import type { Host, Signal, StdOutput } from "../../src/host.ts";
import { fileError } from "./errors.ts";
import { bunWorkers } from "./workers.ts";
import { bunApi as bun, type BunFile, type BunFileSink } from "./bun-types.ts";
import { bunServeHttp } from "./http.ts";

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}

// stdout and stderr share one queue: every write is handed over in call order, across
// both streams, as Node's synchronous stdio on Linux does (so an error line cannot
// overtake the output printed before it).
let tail: Promise<void> = Promise.resolve();

function output(file: () => BunFile, fallback: NodeJS.WriteStream): StdOutput {
  let sink: BunFileSink | undefined | null = null; // null: not created yet; undefined: unavailable
  let broken = false; // EPIPE and the like: later output is dropped
  const writeOne = async (data: string | Uint8Array): Promise<void> => {
    if (broken) return;
    if (sink === null) {
      try {
        sink = file().writer();
      } catch {
        sink = undefined;
      }
    }
    if (!sink) {
      await new Promise<void>((resolve) => fallback.write(data, () => resolve()));
      return;
    }
    // FileSink.write returns a promise when the fd could not take everything at once, and
    // flush() then returns 0 at once although bytes are still pending: wait for the write
    // itself. Its rejection (EPIPE) must be handled here, or Bun reports it as unhandled.
    const written = sink.write(data);
    if (isPromise(written)) await written;
    const flushed = sink.flush();
    if (isPromise(flushed)) await flushed;
  };
  return {
    isTerminal: () => fallback.isTTY === true,
    write(data) {
      // One write at a time, in call order; resolve even if the pipe is gone (EPIPE).
      const next = tail.then(() => writeOne(data)).then(undefined, () => {
        broken = true;
      });
      tail = next;
      return next;
    },
  };
}

// A closed stdout/stderr pipe must never crash the process through the fallback path.
process.stdout.on("error", () => {});
process.stderr.on("error", () => {});

const stdout = output(() => bun().stdout, process.stdout);
const stderr = output(() => bun().stderr, process.stderr);

export const bunHost: Host = {
  runtime: "bun",
  runtimeVersion: `bun ${bun().version}`,
  platform: platformName(process.platform),
  arch: archName(process.arch),
  // Bun keeps [bun, script, ...args]; a `bun build --compile` binary too.
  args: process.argv.slice(2),
  env: (name) => process.env[name],
  stdout,
  stderr,
  async *stdin() {
    const reader = bun().stdin.stream().getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        if (value && value.length > 0) yield value; // a fresh chunk per read
      }
    } finally {
      reader.releaseLock();
    }
  },
  readFile: (path) => bun().file(path).bytes().catch((err) => Promise.reject(fileError(path, err))),
  // Bun.file(path).size is 0 for a missing file: stat reports the error instead.
  fileSize: (path) => stat(path).then((s) => s.size, (err) => Promise.reject(fileError(path, err))),
  writeFile: (path, data) => writeFile(path, data).catch((err) => Promise.reject(fileError(path, err))),
  onSignal(signal: Signal, fn: () => void) {
    process.on(signal, fn);
    return () => {
      process.off(signal, fn);
    };
  },
  openFileLimit() {
    try {
      return parseOpenFileLimit(readFileSync("/proc/self/limits", "utf8"));
    } catch {
      return undefined; // not Linux
    }
  },
  memoryRss: () => process.memoryUsage.rss(),
  cpuSeconds: () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  },
  serveHttp: bunServeHttp, // the admin endpoint (src/admin/)
  async exit(code: number): Promise<never> {
    await tail; // everything written so far, on both streams
    process.exit(code);
  },
  workers: bunWorkers,
};
