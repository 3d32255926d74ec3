// Start the real switchboard CLI as a child process on a chosen runtime, the way a
// user would, and talk to it over TCP. Used by the end-to-end and reliability suites.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Conn } from "../../src/transport.ts";

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
  /** Addresses from the "listening" log lines (text or `--log-format json`), in order. */
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
 * The address a complete log line reports listening on, in either log format:
 * text `... INFO  listening addr=ADDR ...` or JSON `{"msg":"listening","addr":"ADDR",...}`.
 */
export function listeningAddr(line: string): string | undefined {
  if (line.startsWith("{")) {
    try {
      const rec = JSON.parse(line) as { msg?: unknown; addr?: unknown };
      return rec.msg === "listening" && typeof rec.addr === "string" ? rec.addr : undefined;
    } catch {
      return undefined; // not JSON after all: not a listening line
    }
  }
  return /listening .*?addr=(\S+)/.exec(line)?.[1];
}

/**
 * Start `switchboard serve ARGS` and resolve once it has logged one "listening" line per
 * --listen flag (default one), in text or JSON. Listen on port 0 to let the OS pick.
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
  let scanned = 0; // log[0, scanned) is complete lines already looked at
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
    child.stderr!.setEncoding("utf8"); // a character split across chunks stays whole
    child.stderr!.on("data", (text: string) => {
      log += text;
      // Whole lines only: a chunk may end inside one (and so inside an address).
      const end = log.lastIndexOf("\n") + 1;
      for (const line of log.slice(scanned, end).split("\n")) {
        const addr = listeningAddr(line);
        if (addr !== undefined && !addrs.includes(addr)) addrs.push(addr);
      }
      scanned = Math.max(scanned, end);
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

/**
 * How many data segments the TCP connection `conn` has sent so far (`data_segs_out` from
 * `ss -ti`, Linux): proof that small writes left as separate segments rather than
 * coalesced into a few. Ask while the connection is open.
 */
export function dataSegmentsSent(conn: Conn): number {
  if (conn.local.transport !== "tcp" || conn.remote.transport !== "tcp") throw new Error("not a TCP connection");
  const [local, remote] = [conn.local.port, conn.remote.port];
  const r = spawnSync("ss", ["-tinH", "state", "established", `( sport = :${local} and dport = :${remote} )`], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`ss failed: ${r.error?.message ?? r.stderr}`);
  if (!r.stdout.trim()) throw new Error(`no established TCP connection from port ${local} to port ${remote}`);
  return Number(/\bdata_segs_out:(\d+)/.exec(r.stdout)?.[1] ?? 0);
}
