// Start the real switchboard CLI as a child process on a chosen runtime, the way a
// user would, and talk to it over TCP. Used by the end-to-end and reliability suites.
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export type CliRuntime = "node" | "deno" | "bun";
export const CLI_RUNTIMES: readonly CliRuntime[] = ["node", "deno", "bun"];

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = `${ROOT}node_modules/.bin/`;

/** The command that runs the CLI on `runtime` (Node runs the build in dist/). */
export function cliCommand(runtime: CliRuntime): [string, string[]] {
  switch (runtime) {
    case "node":
      return [process.execPath, [`${ROOT}dist/adapters/node/main.js`]];
    case "bun":
      return [`${BIN}bun`, [`${ROOT}adapters/bun/main.ts`]];
    case "deno":
      return [`${BIN}deno`, ["run", "-A", `${ROOT}adapters/deno/main.ts`]];
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Run a CLI command to completion (bounded by `timeoutMs`), optionally feeding stdin. */
export function runCli(
  runtime: CliRuntime,
  args: string[],
  opts: { stdin?: Uint8Array | string; timeoutMs?: number; command?: [string, string[]] } = {},
): Promise<CliResult> {
  const [cmd, pre] = opts.command ?? cliCommand(runtime);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...pre, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.stdin.on("error", () => {});
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    else child.stdin.end();
  });
}

export interface RunningServer {
  child: ChildProcess;
  /** Addresses from the "listening" log lines, in order. */
  addrs: string[];
  /** host and port of the first TCP listener. */
  host: string;
  port: number;
  /** Everything the server logged so far. */
  log(): string;
  /** Wait for the process to exit and its output pipes to close (so log() is complete). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * The process itself has exited ('exit'), whether or not its pipes closed: a process
   * it started (under a wrapper like unshare) may still hold them open.
   */
  terminated: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Every live descendant of `pid`, deepest first (Linux /proc; empty when it has none or is gone). */
export function descendants(pid: number): number[] {
  const kids: number[] = [];
  try {
    // A child belongs to the thread that forked it: read every thread's list.
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
      if (list) kids.push(...list.split(/\s+/).map(Number));
    }
  } catch {
    // gone (or a thread ended) while we read
  }
  return kids.flatMap((k) => [...descendants(k), k]);
}

/** SIGKILL `child` and everything it started (a wrapper's server would otherwise outlive it). */
export function killTree(child: ChildProcess): void {
  for (const pid of child.pid ? descendants(child.pid) : []) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  child.kill("SIGKILL");
}

/**
 * Start `switchboard serve ARGS` and resolve once it has logged one "listening" line per
 * --listen flag (default one). Listen on port 0 to let the OS pick.
 */
export function startServer(
  runtime: CliRuntime,
  args: string[],
  opts: { command?: [string, string[]]; wrap?: string[]; startTimeoutMs?: number } = {},
): Promise<RunningServer> {
  const [cmd, pre] = opts.command ?? cliCommand(runtime);
  const argv = [...pre, "serve", ...args];
  const child = opts.wrap ? spawn(opts.wrap[0]!, [...opts.wrap.slice(1), cmd, ...argv]) : spawn(cmd, argv);
  const expected = Math.max(1, args.filter((a) => a === "--listen" || a === "-l").length);
  let log = "";
  const addrs: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal }))
  );
  const terminated = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal }))
  );
  child.stdout!.on("data", () => {});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killTree(child);
      reject(new Error(`server on ${runtime} did not start; log:\n${log}`));
    }, opts.startTimeoutMs ?? 20_000);
    child.on("error", reject);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server on ${runtime} exited early (code ${code}, signal ${signal}); log:\n${log}`));
    });
    child.stderr!.on("data", (b: Buffer) => {
      log += b.toString();
      for (const m of log.matchAll(/listening .*?addr=(\S+)/g)) if (!addrs.includes(m[1]!)) addrs.push(m[1]!);
      if (addrs.length >= expected) {
        clearTimeout(timer);
        const first = addrs.find((a) => !a.startsWith("unix:")) ?? "";
        const m = /^\[?(.*?)\]?:(\d+)$/.exec(first);
        resolve({
          child,
          addrs,
          host: m?.[1] ?? "",
          port: Number(m?.[2] ?? 0),
          log: () => log,
          exited,
          terminated,
          stop: async (graceMs = 10_000) => {
            child.kill("SIGTERM");
            const t = setTimeout(() => killTree(child), graceMs);
            const r = await exited;
            clearTimeout(t);
            return r;
          },
        });
      }
    });
  });
}
