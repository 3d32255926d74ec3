// serve --proxy-protocol [--proxy-trusted CIDR,...]: behind a load balancer that sends
// a PROXY header (HAProxy send-proxy / send-proxy-v2, cloud TCP balancers).

import { CidrError, TrustedNets } from "../proxy/cidr.ts";
import type { ProxyProtocolConfig } from "../proxy/preface.ts";
import { durationFlag, type FlagSpec, has, type Parsed, UsageError } from "./args.ts";

export const SERVE_PROXY_FLAGS: readonly FlagSpec[] = [
  {
    name: "proxy-protocol",
    kind: "boolean",
    help: "require a PROXY v1/v2 header on every connection and use the client address in it",
  },
  {
    name: "proxy-trusted",
    kind: "string",
    repeatable: true,
    value: "CIDR,...",
    help: "with --proxy-protocol: only these networks may connect (default: any; firewall the port)",
  },
  {
    name: "drain-delay",
    kind: "string",
    value: "DURATION",
    help: "with --proxy-protocol: on SIGTERM first fail health checks (LOCAL headers) this long, still serving",
    default: "0",
  },
];

/** The preface-stage config the flags ask for, or undefined without --proxy-protocol. */
export function serveProxyConfig(p: Parsed): ProxyProtocolConfig | undefined {
  const trusted = (p.flags.get("proxy-trusted") ?? []).flatMap((v) => v.split(",")).filter((v) => v.trim() !== "");
  if (!has(p, "proxy-protocol")) {
    if (p.flags.has("proxy-trusted")) throw new UsageError("--proxy-trusted needs --proxy-protocol");
    if (durationFlag(p, "drain-delay") > 0) throw new UsageError("--drain-delay needs --proxy-protocol");
    return undefined;
  }
  if (p.flags.has("proxy-trusted") && trusted.length === 0) throw new UsageError("--proxy-trusted: no network given");
  try {
    return { trusted: trusted.length > 0 ? new TrustedNets(trusted) : undefined };
  } catch (err) {
    if (err instanceof CidrError) throw new UsageError(`--proxy-trusted: ${err.message}`);
    throw err;
  }
}
