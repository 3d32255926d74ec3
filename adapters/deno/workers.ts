// Worker processes on Deno: this program started again through Deno.Command; every worker
// binds the port itself with SO_REUSEPORT, which Deno allows only with --unstable-net.

import type { WorkerProcess, WorkerSpawner } from "../../src/host.ts";
import { readLines } from "../../src/workers/lines.ts";
import { deno } from "./deno-types.ts";

/** Permissions that a `deno run` flag grants in full (`--allow-NAME`). */
// (No --allow-import: the statically imported modules of the program load without it.)
const PERMISSIONS = ["read", "write", "net", "env", "run", "sys", "ffi"] as const;

const NEEDS_UNSTABLE_NET =
  "--workers needs SO_REUSEPORT, which Deno allows only with --unstable-net: compile with `deno compile --unstable-net`";

/** Our own command line (Linux), when Deno lets us read it: only with all permissions (-A). */
function ownCommandLine(): string[] | undefined {
  try {
    const cmdline = deno().readTextFileSync("/proc/self/cmdline").split("\0");
    if (cmdline.at(-1) === "") cmdline.pop();
    return cmdline;
  } catch {
    return undefined;
  }
}

/**
 * How to start this program again, minus its arguments. A `deno compile` binary: itself
 * (flags and permissions are built in). `deno run`: with -A, our exact command line
 * (/proc/self/cmdline: `deno run -A --unstable-net main.ts` and whatever else was given);
 * otherwise Deno shows us neither, and the command is rebuilt from the permissions granted
 * in full (a grant for some names only, `--allow-net=HOST`, is not passed on) and
 * `Deno.mainModule`. `--unstable-net` is added when missing; a compiled binary cannot.
 */
function selfCommand(): string[] {
  const D = deno();
  const execPath = D.execPath();
  const unstableNet = typeof D.listenDatagram === "function";
  if (D.build.standalone) {
    if (!unstableNet) throw new Error(NEEDS_UNSTABLE_NET);
    return [execPath];
  }
  const cmdline = ownCommandLine();
  if (cmdline && cmdline[1] === "run") {
    const prefix = cmdline.slice(1, cmdline.length - D.args.length);
    return unstableNet ? [execPath, ...prefix] : [execPath, "run", "--unstable-net", ...prefix.slice(1)];
  }
  const granted = PERMISSIONS.filter((name) => D.permissions.querySync({ name }).state === "granted");
  return [execPath, "run", ...granted.map((name) => `--allow-${name}`), "--unstable-net", D.mainModule];
}

export const denoWorkers: WorkerSpawner = {
  sharing: "reuseport",
  cores: () => (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1,
  spawn(args): WorkerProcess {
    const D = deno();
    let child;
    try {
      const [cmd, ...pre] = selfCommand();
      child = new D.Command(cmd!, { args: [...pre, ...args], stdin: "piped", stdout: "piped", stderr: "inherit" })
        .spawn();
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(`cannot start worker processes: ${msg}`);
    }
    const proc = child;
    let onLine: (line: string) => void = () => {};
    const stdoutDone = readLines(proc.stdout.getReader(), (line) => onLine(line));
    // Settled only after the last control line too: a "failed" line may trail the exit.
    const exited = Promise.all([proc.status, stdoutDone]).then(([s]) => ({
      code: s.signal ? null : s.code,
      signal: s.signal ?? null,
    }));
    return {
      pid: proc.pid,
      onLine: (fn) => void (onLine = fn),
      exited,
      kill(signal) {
        try {
          proc.kill(signal);
        } catch {
          // already gone
        }
      },
    };
  },
};
