// Where the admin endpoint may listen: TCP only, loopback unless the operator opts in
// (`--admin-public`), and never on a port a service listens on.

import { AddrError, formatAddr, parseAddr } from "../addr.ts";
import type { Addr } from "../transport.ts";

export type TcpAddr = Extract<Addr, { transport: "tcp" }>;

/** The admin address is wrong for a reason the command line alone shows (a usage error). */
export class AdminAddrError extends Error {
  override name = "AdminAddrError";
}

/** True for 127.0.0.0/8, ::1 and the name localhost: reachable from this host only. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    h === "0:0:0:0:0:0:0:1";
}

const WILDCARDS = new Set(["0.0.0.0", "::", "0:0:0:0:0:0:0:0"]);

/** Two TCP addresses that would compete for one port (a wildcard overlaps every host). */
function overlaps(a: TcpAddr, b: TcpAddr): boolean {
  if (a.port !== b.port || a.port === 0) return false;
  return a.hostname === b.hostname || WILDCARDS.has(a.hostname) || WILDCARDS.has(b.hostname) ||
    (a.hostname === "localhost" && isLoopback(b.hostname)) || (b.hostname === "localhost" && isLoopback(a.hostname));
}

/**
 * Parse `--admin ADDR` and check it against the service addresses. `:9090` and `9090` mean
 * 127.0.0.1; a non-loopback host needs `allowPublic`.
 */
export function parseAdminAddr(text: string, services: readonly Addr[], allowPublic: boolean): TcpAddr {
  let addr: Addr;
  try {
    addr = parseAddr(text, "127.0.0.1");
  } catch (err) {
    if (err instanceof AddrError) throw new AdminAddrError(err.message);
    throw err;
  }
  if (addr.transport !== "tcp") throw new AdminAddrError(`${text}: the admin endpoint listens on TCP only`);
  if (!allowPublic && !isLoopback(addr.hostname)) {
    throw new AdminAddrError(
      `${text} is not a loopback address; add --admin-public to expose metrics and the status page beyond this host`,
    );
  }
  for (const s of services) {
    if (s.transport === "tcp" && overlaps(addr, s)) {
      throw new AdminAddrError(`${text}: the admin endpoint cannot share a port with the service on ${formatAddr(s)}`);
    }
  }
  return addr;
}
