// How a `serve --workers` child knows it is a worker, and how it talks back to its
// supervisor. The role travels as a hidden first argument (not an environment variable:
// Deno without --allow-env could not read one, and the child would become a supervisor
// itself); the child's stdout carries control lines, one JSON object each.

import type { LogFields, Logger } from "../log.ts";
import { type Counts, parseCounts } from "../admin/counts.ts";

/** The hidden argument that makes `serve` a worker; its value is a JSON WorkerRole. */
export const WORKER_ARG = "--sb-worker";

export interface WorkerRole {
  /** 1..N; a replacement keeps the id of the worker it replaces. */
  id: number;
  /** Addresses to bind instead of the command line's (set once the first worker has bound port 0). */
  listen?: string[];
  /** Bind with SO_REUSEPORT (every worker binds the port itself). */
  reusePort: boolean;
}

/** What a worker tells its supervisor. */
export type ControlMessage =
  | { sb: "listening"; addrs: string[] }
  | { sb: "failed"; code: number; message: string }
  /** With --admin: the worker's counts, sent every second (src/workers/metrics-report.ts). */
  | { sb: "metrics"; counts: Counts };

/** The arguments of `serve` for worker `role`, given the supervisor's own `serve` arguments. */
export function workerArgs(role: WorkerRole, argv: readonly string[]): string[] {
  return ["serve", WORKER_ARG, JSON.stringify(role), ...argv];
}

/** The worker role at the front of `argv` (if any) and the arguments after it. */
export function takeWorkerRole(argv: readonly string[]): { role?: WorkerRole; argv: readonly string[] } {
  if (argv[0] !== WORKER_ARG) return { argv };
  let role: WorkerRole;
  try {
    role = JSON.parse(argv[1] ?? "") as WorkerRole;
  } catch {
    throw new Error(`${WORKER_ARG}: bad worker role`);
  }
  if (!Number.isInteger(role?.id) || role.id < 1) throw new Error(`${WORKER_ARG}: bad worker role`);
  return { role, argv: argv.slice(2) };
}

export function controlLine(msg: ControlMessage): string {
  return JSON.stringify(msg) + "\n";
}

/** A control message, or undefined for any other line (a worker's stdout carries nothing else, but be strict). */
export function parseControlLine(line: string): ControlMessage | undefined {
  try {
    const m = JSON.parse(line) as Partial<ControlMessage> & Record<string, unknown>;
    if (m.sb === "listening" && Array.isArray(m.addrs)) return { sb: "listening", addrs: m.addrs.map(String) };
    if (m.sb === "failed") return { sb: "failed", code: Number(m.code) || 1, message: String(m.message) };
    if (m.sb === "metrics") {
      const counts = parseCounts(m.counts);
      if (counts) return { sb: "metrics", counts };
    }
  } catch {
    // not JSON
  }
  return undefined;
}

/** `log` with a `worker` field on every line, so that interleaved worker logs stay attributable. */
export function withWorkerField(log: Logger, id: number): Logger {
  const add = (f?: LogFields): LogFields => ({ worker: id, ...f });
  return {
    log: (level, msg, f) => log.log(level, msg, add(f)),
    debug: (msg, f) => log.debug(msg, add(f)),
    info: (msg, f) => log.info(msg, add(f)),
    warn: (msg, f) => log.warn(msg, add(f)),
    error: (msg, f) => log.error(msg, add(f)),
    enabled: (level) => log.enabled?.(level) ?? true,
  };
}
