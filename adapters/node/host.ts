// Host services over Node's process, fs and stdio.

import { readFile, stat, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { fileError } from "./errors.ts";
import { parseOpenFileLimit } from "../../src/adapter-kit/fd-limit.ts";
import { archName, platformName } from "../../src/platform.ts";
import type { Host, Signal, StdOutput } from "../../src/host.ts";
import { nodeWorkers } from "./workers.ts";
import { nodeServeHttp } from "./http.ts";

function output(stream: NodeJS.WriteStream): StdOutput {
  return {
    isTerminal: () => stream.isTTY === true,
    write: (data) =>
      new Promise<void>((resolve) => {
        // Resolve even if the pipe is gone (EPIPE): logging must never kill the server.
        stream.write(data, () => resolve());
      }),
  };
}
// A closed stdout/stderr pipe emits 'error'; without a listener that would crash the process.
process.stdout.on("error", () => {});
process.stderr.on("error", () => {});

export const nodeHost: Host = {
  runtime: "node",
  runtimeVersion: `node ${process.versions.node}`,
  platform: platformName(process.platform),
  arch: archName(process.arch),
  args: process.argv.slice(2),
  env: (name) => process.env[name],
  stdout: output(process.stdout),
  stderr: output(process.stderr),
  async *stdin() {
    for await (const chunk of process.stdin) {
      const b = chunk as Buffer;
      yield new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    }
  },
  readFile: (path) => readFile(path).then((b) => new Uint8Array(b), (err) => Promise.reject(fileError(path, err))),
  fileSize: (path) => stat(path).then((s) => s.size, (err) => Promise.reject(fileError(path, err))),
  writeFile: (path, data) => writeFile(path, data).catch((err) => Promise.reject(fileError(path, err))),
  onSignal(signal: Signal, fn: () => void) {
    process.on(signal, fn);
    return () => process.off(signal, fn);
  },
  openFileLimit() {
    try {
      return parseOpenFileLimit(readFileSync("/proc/self/limits", "utf8"));
    } catch {
      return undefined; // not Linux: no portable getrlimit in Node
    }
  },
  memoryRss: () => process.memoryUsage.rss(),
  cpuSeconds: () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  },
  serveHttp: nodeServeHttp, // the admin endpoint (src/admin/)
  async exit(code: number): Promise<never> {
    await Promise.all([nodeHost.stdout.write(""), nodeHost.stderr.write("")]);
    process.exit(code);
  },
  workers: nodeWorkers,
};
