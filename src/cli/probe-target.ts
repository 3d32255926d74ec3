// What `switchboard probe` checks when given no address: the listeners of a running
// `switchboard serve`, read from its command line (/proc/PID/cmdline; PID 1 in a
// container is the server). Wildcard binds are probed over loopback.

import { AddrError, parseAddr } from "../addr.ts";
import { findService } from "./service-registry.ts";
import type { Addr } from "../transport.ts";
import { one, parseArgs, UsageError } from "./args.ts";
import type { ProbeTarget } from "./probe-checks.ts";
import { serveFlags } from "./serve.ts";
import { takeWorkerRole, type WorkerRole } from "../workers/worker-role.ts";

/** The server's command line cannot be read or is not a `serve` we can probe. */
export class ProbeTargetError extends Error {
  override name = "ProbeTargetError";
}

/** Where to connect to reach a listener bound to `addr`: wildcards become loopback. */
export function reachable(addr: Addr): Addr {
  if (addr.transport !== "tcp") return addr;
  if (addr.hostname === "0.0.0.0") return { ...addr, hostname: "127.0.0.1" };
  if (addr.hostname === "::" || /^(0*:)+0*$/.test(addr.hostname)) return { ...addr, hostname: "::1" };
  return addr;
}

/** The listeners of `serve ARGS` in a NUL-separated command line (argv[0] first). */
export function targetsFromCmdline(cmdline: Uint8Array, pid: number): ProbeTarget[] {
  const argv = new TextDecoder().decode(cmdline).split("\0");
  if (argv.at(-1) === "") argv.pop();
  const at = argv.indexOf("serve");
  if (at < 0) {
    throw new ProbeTargetError(
      `process ${pid} is not a switchboard server (no "serve" in its command line: ${argv.slice(0, 4).join(" ")}); ` +
        "give ADDR (and --service)",
    );
  }
  let service: string;
  let framing: string | undefined;
  let listens: string[] | undefined;
  let serverTls = false;
  try {
    // A worker of `serve --workers` (docs/workers.md): its role names the addresses it bound.
    let role: WorkerRole | undefined, serveArgs: readonly string[];
    try {
      ({ role, argv: serveArgs } = takeWorkerRole(argv.slice(at + 1)));
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    const p = parseArgs(serveArgs, serveFlags);
    service = one(p, "service")!;
    framing = one(p, "framing");
    serverTls = one(p, "tls-cert") !== undefined;
    listens = role?.listen ?? p.flags.get("listen");
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    throw new ProbeTargetError(`cannot read the command line of process ${pid}: ${err.message}`);
  }
  const entry = findService(service);
  if (!entry) throw new ProbeTargetError(`process ${pid} serves an unknown service "${service}"`);
  return (listens ?? [`127.0.0.1:${entry.defaultPort}`]).map((text) => {
    let addr: Addr;
    try {
      addr = parseAddr(text, "127.0.0.1");
    } catch (err) {
      if (!(err instanceof AddrError)) throw err;
      throw new ProbeTargetError(`process ${pid}: ${err.message}`);
    }
    if (addr.transport === "tcp" && addr.port === 0) {
      throw new ProbeTargetError(
        `process ${pid} listens on port 0 (${text}): the OS picked the port; give ADDR instead`,
      );
    }
    return { service: entry.name, addr: reachable(addr), framing, ...(serverTls ? { serverTls } : {}) };
  });
}
