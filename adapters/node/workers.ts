// Worker processes on Node: node:cluster. Node 20's net has no SO_REUSEPORT, so the
// primary (our supervisor) binds each address once and hands connections out to the
// workers round-robin; a worker's listen() goes through the primary. Used on every Node
// version, so that one path is the tested one (docs/decisions.md).

import cluster from "node:cluster";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import type { WorkerProcess, WorkerSpawner } from "../../src/host.ts";
import { lineSplitter } from "../../src/workers/lines.ts";

/**
 * Whether this is a single-executable build (node:sea, Node 20.12+). There Node puts the
 * executable's own name where a script path would be (argv[1]), and a forked copy gets
 * it again on top of the script path cluster passes: so the "script" must be our first
 * argument instead.
 */
function isSea(): boolean {
  try {
    return (createRequire(import.meta.url)("node:sea") as { isSea(): boolean }).isSea();
  } catch {
    return false; // an older Node: no single executables either
  }
}

export const nodeWorkers: WorkerSpawner = {
  sharing: "cluster",
  cores: () => availableParallelism(),
  spawn(args): WorkerProcess {
    // stdin: the lifeline; stdout: control lines; stderr: the worker's log, straight through.
    const [first, ...rest] = args;
    const argv = isSea() ? { exec: first, args: rest } : { args: [...args] };
    cluster.setupPrimary({ ...argv, stdio: ["pipe", "pipe", "inherit", "ipc"] });
    const worker = cluster.fork();
    worker.on("error", () => {}); // e.g. an IPC send to a worker that died: its exit tells us
    const child = worker.process;
    // Settled only after the last control line too: a "failed" line may trail the exit.
    const stdoutDone = new Promise<void>((resolve) => {
      if (!child.stdout) return resolve();
      child.stdout.once("close", resolve);
    });
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal }))
    );
    const exited = Promise.all([exit, stdoutDone]).then(([r]) => r);
    child.stdin?.on("error", () => {});
    let onLine: (line: string) => void = () => {};
    const split = lineSplitter((line) => onLine(line));
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (text: string) => split(text));
    return {
      pid: child.pid ?? 0,
      onLine: (fn) => void (onLine = fn),
      exited,
      kill(signal) {
        try {
          child.kill(signal);
        } catch {
          // already gone
        }
      },
    };
  },
};
