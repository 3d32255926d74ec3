// `bench --pid PID`: the server's CPU time from /proc/PID/stat (Linux), read through the
// Host so it works on every runtime. utime and stime are fields 14 and 15, in clock ticks;
// the tick is USER_HZ, 100 on every Linux architecture's ABI (sysconf(_SC_CLK_TCK) cannot be
// asked from here, and Linux has kept it at 100 for user space since 2.6).

import type { Host } from "../host.ts";
import { FileError } from "../net-errors.ts";

export const CLOCK_TICKS_PER_S = 100;

export class ProcCpuError extends Error {
  override name = "ProcCpuError";
}

/** CPU seconds (user + system) from the text of /proc/PID/stat. */
export function parseProcStat(text: string): number {
  // the command name (field 2) is in parentheses and may hold spaces or ")": skip to the last ")"
  const close = text.lastIndexOf(")");
  const rest = close < 0 ? [] : text.slice(close + 1).trim().split(/\s+/);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || rest.length < 13) {
    throw new ProcCpuError("not a /proc/PID/stat line");
  }
  return (utime + stime) / CLOCK_TICKS_PER_S;
}

/** The CPU seconds process `pid` has used so far; a clear error when it cannot be read. */
export async function readProcessCpu(host: Host, pid: number): Promise<number> {
  if (host.platform !== "linux") {
    throw new ProcCpuError(`--pid needs Linux's /proc (this is ${host.platform})`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await host.readFile(`/proc/${pid}/stat`);
  } catch (err) {
    if (err instanceof FileError && err.code === "ENOENT") throw new ProcCpuError(`--pid ${pid}: no such process`);
    throw new ProcCpuError(
      `--pid ${pid}: cannot read /proc/${pid}/stat: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  try {
    return parseProcStat(new TextDecoder().decode(bytes));
  } catch {
    throw new ProcCpuError(`--pid ${pid}: cannot read its CPU time from /proc/${pid}/stat`);
  }
}

/** bench's own CPU seconds so far, where the runtime can tell: a help, never a reason to fail a run. */
export function readOwnCpu(host: Host): number | undefined {
  return host.cpuSeconds?.();
}
