// Worker processes on Deno: this program started again through Deno.Command; every worker
// binds the port itself with SO_REUSEPORT, which Deno allows only with --unstable-net.

import type { WorkerProcess, WorkerSpawner } from "../../src/host.ts";
import { readLines } from "../../src/workers/lines.ts";
import { deno } from "./deno-types.ts";

/**
 * The command line of this process minus its arguments, from /proc/self/cmdline (Linux):
 * Deno does not expose its own flags, and a worker needs the same permissions. `deno run
 * -A --unstable-net main.ts` gives [deno, run, -A, --unstable-net, main.ts]; a `deno
 * compile` binary gives [binary] (its permissions and flags are built in). Without
 * --unstable-net, `deno run` gets it added; a compiled binary cannot.
 */
function selfCommand(): string[] {
  const D = deno();
  const execPath = D.execPath();
  const cmdline = D.readTextFileSync("/proc/self/cmdline").split("\0");
  if (cmdline.at(-1) === "") cmdline.pop();
  const prefix = cmdline.slice(1, cmdline.length - D.args.length);
  if (typeof D.listenDatagram === "function") return [execPath, ...prefix]; // --unstable-net is on
  if (prefix[0] === "run") return [execPath, "run", "--unstable-net", ...prefix.slice(1)];
  throw new Error(
    "--workers needs SO_REUSEPORT, which Deno allows only with --unstable-net: compile with `deno compile --unstable-net`",
  );
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
      throw new Error(`cannot start worker processes: ${msg} (deno needs --allow-run and --allow-read for --workers)`);
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
