// Worker processes on Bun: Bun.spawn of this program again; every worker binds the port
// itself with SO_REUSEPORT (Linux), and the kernel spreads connections among them.

import type { WorkerProcess, WorkerSpawner } from "../../src/host.ts";
import { readLines } from "../../src/workers/lines.ts";
import { bunApi } from "./bun-types.ts";

/**
 * How this program was started, minus its arguments: `bun script.ts` runs as
 * [bun, script]; a `bun build --compile` binary as [binary] (its argv[1] is the embedded
 * entry's /$bunfs/ path, which the binary adds itself).
 */
function selfCommand(): string[] {
  const entry = process.argv[1] ?? "";
  const compiled = entry.startsWith("/$bunfs/") || entry.startsWith("B:/~BUN/");
  return compiled ? [process.execPath] : [process.execPath, entry];
}

export const bunWorkers: WorkerSpawner = {
  sharing: "reuseport",
  cores: () => (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1,
  spawn(args): WorkerProcess {
    const child = bunApi().spawn({
      cmd: [...selfCommand(), ...args],
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    });
    let onLine: (line: string) => void = () => {};
    const stdoutDone = readLines(child.stdout.getReader(), (line) => onLine(line));
    // Settled only after the last control line too: a "failed" line may trail the exit.
    const exited = Promise.all([child.exited, stdoutDone]).then(([code]) => ({
      code: child.signalCode ? null : code,
      signal: child.signalCode ?? null,
    }));
    return {
      pid: child.pid,
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
