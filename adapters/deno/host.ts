// Host services over the Deno namespace: args, env, stdio, files, signals, exit.

import { parseOpenFileLimit } from "../../src/adapter-kit/fd-limit.ts";
import { archName, platformName } from "../../src/platform.ts";
import type { Host, Signal, StdOutput } from "../../src/host.ts";
import { fileError } from "./errors.ts";
import { denoWorkers } from "./workers.ts";
import { deno, type DenoApi, type DenoWriter } from "./deno-types.ts";
import { denoServeHttp } from "./http.ts";

const D: DenoApi = deno();
const encoder = new TextEncoder();

/**
 * Deno's stdout/stderr write() may take part of a buffer, and two unawaited writes
 * could interleave their remainders: writes are chained so each one is written in full,
 * in call order. A closed pipe (BrokenPipe) or any other write error is swallowed, and
 * later writes are dropped: logging must never kill the server.
 */
function output(w: DenoWriter & { isTerminal(): boolean }): StdOutput & { idle(): Promise<void> } {
  let tail: Promise<void> = Promise.resolve();
  let broken = false;
  const writeAll = async (bytes: Uint8Array): Promise<void> => {
    let off = 0;
    while (off < bytes.length && !broken) {
      try {
        off += await w.write(off === 0 ? bytes : bytes.subarray(off));
      } catch {
        broken = true;
      }
    }
  };
  return {
    isTerminal: () => {
      try {
        return w.isTerminal();
      } catch {
        return false;
      }
    },
    write(data) {
      const bytes = typeof data === "string" ? encoder.encode(data) : data;
      tail = tail.then(() => writeAll(bytes));
      return tail;
    },
    idle: () => tail,
  };
}

// Deno.stdout/stderr have isTerminal() (Deno 1.40+); kept out of the shared API types.
const stdout = output(D.stdout as DenoWriter & { isTerminal(): boolean });
const stderr = output(D.stderr as DenoWriter & { isTerminal(): boolean });

/**
 * Without env permission a variable reads as unset. We ask Deno first instead of calling
 * env.get() blindly: in a terminal that would stop a starting server at an interactive
 * permission prompt for each variable the CLI looks at.
 */
function envGet(name: string): string | undefined {
  try {
    if (D.permissions.querySync({ name: "env", variable: name }).state !== "granted") return undefined;
    return D.env.get(name);
  } catch {
    return undefined;
  }
}

export const denoHost: Host = {
  runtime: "deno",
  runtimeVersion: `deno ${D.version.deno}`,
  platform: platformName(D.build.os),
  arch: archName(D.build.arch),
  args: [...D.args],
  env: envGet,
  stdout,
  stderr,
  async *stdin() {
    for (;;) {
      const buf = new Uint8Array(64 * 1024);
      const n = await D.stdin.read(buf);
      if (n === null) return;
      if (n > 0) yield n === buf.length ? buf : buf.slice(0, n);
    }
  },
  readFile: (path) => D.readFile(path).catch((err) => Promise.reject(fileError(path, err))),
  fileSize: (path) => D.stat(path).then((s) => s.size, (err) => Promise.reject(fileError(path, err))),
  writeFile: (path, data) => D.writeFile(path, data).catch((err) => Promise.reject(fileError(path, err))),
  onSignal(signal: Signal, fn: () => void) {
    D.addSignalListener(signal, fn);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      try {
        D.removeSignalListener(signal, fn);
      } catch {
        // already gone
      }
    };
  },
  openFileLimit() {
    // Deno has no getrlimit; Linux exposes the limit in /proc. Ask only when read access
    // is already granted: an interactive run must not prompt for an internal detail.
    const path = "/proc/self/limits";
    try {
      if (D.build.os !== "linux" || D.permissions.querySync({ name: "read", path }).state !== "granted") {
        return undefined;
      }
      return parseOpenFileLimit(D.readTextFileSync(path));
    } catch {
      return undefined;
    }
  },
  memoryRss() {
    try {
      return D.memoryUsage().rss;
    } catch {
      return undefined;
    }
  },
  cpuSeconds() {
    const u = D.cpuUsage?.();
    return u ? (u.user + u.system) / 1e6 : undefined;
  },
  serveHttp: denoServeHttp, // the admin endpoint (src/admin/)
  async exit(code: number): Promise<never> {
    await Promise.all([stdout.idle(), stderr.idle()]);
    D.exit(code);
  },
  workers: denoWorkers,
};
