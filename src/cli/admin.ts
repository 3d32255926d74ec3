// `serve --admin ADDR`: the flags, and starting the admin HTTP endpoint (src/admin/)
// through the Host's HTTP server next to the service listeners.

import { formatAddr } from "../addr.ts";
import type { Addr } from "../transport.ts";
import type { Host } from "../host.ts";
import type { Logger } from "../log.ts";
import type { Server } from "../server/server.ts";
import { AdminAddrError, parseAdminAddr, type TcpAddr } from "../admin/admin-addr.ts";
import { adminHandler, type AdminSource, MAX_HEADER_BYTES, serverSource } from "../admin/handler.ts";
import { RateHistory } from "../admin/history.ts";
import type { AdminInfo, Lifecycle } from "../admin/status.ts";
import { durationFlag, type FlagSpec, has, one, type Parsed, UsageError } from "./args.ts";

export const adminFlags: FlagSpec[] = [
  {
    name: "admin",
    kind: "string",
    value: "ADDR",
    help: "serve /metrics, /healthz, /readyz, /status.json and a status page over HTTP here (loopback; off by default)",
  },
  { name: "admin-public", kind: "boolean", help: "allow --admin on a non-loopback address (e.g. 0.0.0.0:9090)" },
  {
    name: "unready-delay",
    kind: "string",
    value: "DURATION",
    // No default value: a default would count as given, and the flag needs --admin.
    help: "on the first stop signal, answer /readyz 503 this long before the drain closes the listeners (default 0)",
  },
];

/** What `serve` learns from the admin flags before anything is bound. */
export interface AdminPlan {
  addr: TcpAddr;
  unreadyDelayMs: number;
}

/** Check the admin flags against the service addresses (a usage error, exit 2); undefined without --admin. */
export function planAdmin(p: Parsed, services: readonly Addr[]): AdminPlan | undefined {
  const text = one(p, "admin");
  if (text === undefined) {
    for (const name of ["admin-public", "unready-delay"]) {
      if (has(p, name)) throw new UsageError(`--${name} needs --admin`);
    }
    return undefined;
  }
  try {
    return {
      addr: parseAdminAddr(text, services, has(p, "admin-public")),
      unreadyDelayMs: has(p, "unready-delay") ? durationFlag(p, "unready-delay") : 0,
    };
  } catch (err) {
    if (err instanceof AdminAddrError) throw new UsageError(`--admin ${err.message}`);
    throw err;
  }
}

/** A running admin endpoint. */
export interface AdminEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

/** What an admin endpoint reports on: running totals for its history, and the source of its answers. */
export interface AdminBinding {
  totals(): { accepted: number; closed: number };
  source(history: RateHistory): AdminSource;
}

/** A single process's binding: its own server. */
export function serverBinding(server: Server, info: AdminInfo, life: Lifecycle): AdminBinding {
  return {
    totals: () => {
      let closed = 0;
      for (const n of server.metrics?.closed.values() ?? []) closed += n;
      return { accepted: server.stats().accepted, closed };
    },
    source: (history) => serverSource({ server, info, life, history }),
  };
}

/** Bind the admin endpoint; rejects with a ListenError (exit 1) when its address cannot be bound. */
export async function startAdmin(
  host: Host,
  plan: AdminPlan,
  binding: AdminBinding,
  log: Logger,
): Promise<AdminEndpoint> {
  if (!host.serveHttp) throw new Error(`--admin: this runtime (${host.runtime}) offers no HTTP server`);
  const history = new RateHistory(() => binding.totals());
  const http = await host.serveHttp(
    { hostname: plan.addr.hostname, port: plan.addr.port, maxHeaderBytes: MAX_HEADER_BYTES },
    adminHandler(binding.source(history)),
  );
  history.start();
  const addr = formatAddr({ ...plan.addr, port: http.port });
  const url = `http://${addr}/`;
  log.info("admin endpoint ready", { admin: addr, url }); // not "listening": that names service addresses
  return {
    url,
    close: async () => {
      history.stop();
      await http.close();
    },
  };
}
