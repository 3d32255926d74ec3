// `serve --workers N|auto`: parse the flag, and run the supervisor (src/workers/) in place
// of a server. The workers are this program again, started through the Host with the same
// `serve` arguments plus a hidden worker role (src/workers/worker-role.ts).

import type { Runtime } from "../host.ts";
import type { Logger } from "../log.ts";
import type { Addr } from "../transport.ts";
import { formatAddr } from "../addr.ts";
import { Supervisor } from "../workers/supervisor.ts";
import { workerArgs } from "../workers/worker-role.ts";
import type { AdminInfo } from "../admin/status.ts";
import { WorkerTotals } from "../admin/worker-totals.ts";
import type { ServerOptions } from "../server/options.ts";
import { formatDuration } from "../duration.ts";
import { StopSignals } from "../server/stop-signals.ts";
import { type FlagSpec, one, type Parsed, UsageError } from "./args.ts";
import { type AdminEndpoint, type AdminPlan, startAdmin } from "./admin.ts";
import { workersBinding } from "./serve-workers-admin.ts";

/** More would be a mistake, not a configuration (each worker is a whole runtime). */
export const MAX_WORKERS = 256;

export const workersFlagSpec: FlagSpec = {
  name: "workers",
  kind: "string",
  value: "N|auto",
  help: "run N worker processes on the same listeners (auto: one per core); limits apply per worker",
  default: "1",
};

/** The --workers count (1 = a single process, no supervisor). */
export function workersCount(p: Parsed, rt: Runtime): number {
  const v = one(p, "workers") ?? "1";
  if (v === "auto") {
    if (!rt.host.workers) throw new UsageError(`--workers: ${rt.host.runtime} cannot start worker processes here`);
    return Math.max(1, Math.min(MAX_WORKERS, rt.host.workers.cores()));
  }
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_WORKERS) {
    throw new UsageError(`--workers: expected "auto" or a whole number from 1 to ${MAX_WORKERS}, got "${v}"`);
  }
  return Number(v);
}

export interface SuperviseOptions {
  count: number;
  addrs: readonly Addr[];
  /** The `serve` arguments (after the verb), passed on to every worker. */
  argv: readonly string[];
  log: Logger;
  /** Fields of the "listening" lines (service, framing, ...). */
  listening: Record<string, string | undefined>;
  /** --admin: the supervisor serves the endpoint for all workers (they report their counts). */
  admin?: { plan: AdminPlan; info: AdminInfo; options: Readonly<ServerOptions> };
  /** --tls-cert: SIGHUP is forwarded to every worker, which reloads its certificate. */
  tls: boolean;
}

/** Run the supervisor until it has stopped; its exit code. Throws a worker's start error. */
export async function superviseWorkers(rt: Runtime, o: SuperviseOptions): Promise<number> {
  const spawner = rt.host.workers;
  if (!spawner) throw new UsageError(`--workers: ${rt.host.runtime} cannot start worker processes here`);
  const unix = o.addrs.find((a) => a.transport === "unix");
  // SO_REUSEPORT does not apply to unix sockets: refuse on every runtime rather than differ.
  if (unix) throw new UsageError(`--workers: unix sockets cannot be shared by workers (${formatAddr(unix)})`);
  const reusePort = spawner.sharing === "reuseport";
  // Elsewhere SO_REUSEPORT either does not exist or hands every connection to one socket.
  if (reusePort && rt.host.platform !== "linux") {
    throw new Error(`--workers on ${rt.host.runtime} needs Linux (SO_REUSEPORT); this is ${rt.host.platform}`);
  }
  const startedAt = Date.now();
  const totals = new WorkerTotals();
  const sup = new Supervisor({
    count: o.count,
    sharing: spawner.sharing,
    log: o.log,
    start: (id, listen) => spawner.spawn(workerArgs({ id, listen: listen && [...listen], reusePort }, o.argv)),
    onMessage: (id, pid, m) => m.sb === "metrics" && totals.report(id, pid, m.counts),
    onExit: (id, pid) => totals.exited(id, pid),
  });
  const life = { stopping: false };
  let addrs: string[] = [];
  // The admin endpoint binds first, as in a single process: a service port 0 cannot take its port.
  let admin: AdminEndpoint | undefined;
  if (o.admin) {
    const a = o.admin;
    const binding = workersBinding({
      sup,
      totals,
      info: a.info,
      life,
      options: a.options,
      listeners: () => addrs,
      startedAt,
    });
    admin = await startAdmin(rt.host, a.plan, binding, o.log);
  }
  try {
    addrs = await sup.start();
  } catch (err) {
    await admin?.close();
    throw err;
  }
  const unreadyMs = o.admin?.plan.unreadyDelayMs ?? 0;
  let delay: ReturnType<typeof setTimeout> | undefined;
  const signals = new StopSignals();
  const forward = (signal: "SIGINT" | "SIGTERM") => () => {
    // The same Ctrl-C delivered twice (e.g. by `deno task`) must not end the unready delay.
    if (signals.receive(Date.now()) === "repeat" && delay !== undefined) return;
    if (delay !== undefined) {
      // A second signal during the unready delay: no more waiting; drain now.
      clearTimeout(delay);
      delay = undefined;
      return sup.stop(signal);
    }
    if (!life.stopping && unreadyMs > 0) {
      life.stopping = true; // /readyz 503 at once; the workers keep serving meanwhile
      o.log.info("not ready; draining after the unready delay", { delay: formatDuration(unreadyMs) });
      delay = setTimeout(() => {
        delay = undefined;
        o.log.info("shutting down", { signal, workers: sup.workers().length });
        sup.stop(signal);
      }, unreadyMs);
      return;
    }
    life.stopping = true;
    o.log.info("shutting down", { signal, workers: sup.workers().length });
    sup.stop(signal);
  };
  // Before "listening": whoever reads that line may signal at once (without a handler the
  // runtime's default action would kill the supervisor and orphan the workers).
  const off = [rt.host.onSignal("SIGINT", forward("SIGINT")), rt.host.onSignal("SIGTERM", forward("SIGTERM"))];
  // As in a single process, SIGHUP is handled only with TLS (else its default action ends us).
  if (o.tls) {
    off.push(
      rt.host.onSignal("SIGHUP", () => o.log.info("SIGHUP: reloading TLS in every worker", { workers: sup.reload() })),
    );
  }
  for (const addr of addrs) {
    o.log.info("listening", { addr, ...o.listening, runtime: rt.host.runtime, workers: o.count });
  }
  const code = await sup.finished;
  for (const f of off) f();
  await admin?.close();
  o.log.info("stopped", { workers: o.count, exit_code: code });
  return code;
}
