// --proxy v1|v2 and --proxy-source ADDR for the client commands (send, request; a load
// generator can take the same two flags): prepend a PROXY header to every connection.

import type { Runtime } from "../host.ts";
import { parseIpv4, parseIpv6 } from "../proxy/ip.ts";
import { proxyingTransport, type ProxySend } from "../proxy/client.ts";
import { addrArg, enumFlag, type FlagSpec, has, one, type Parsed, UsageError } from "./args.ts";

export const PROXY_CLIENT_FLAGS: readonly FlagSpec[] = [
  {
    name: "proxy",
    kind: "string",
    value: "v1|v2",
    help: "start each connection with a PROXY protocol header of this version",
  },
  {
    name: "proxy-source",
    kind: "string",
    value: "ADDR",
    help: "with --proxy: the client address the header announces, ip:port or [v6]:port (default: our own)",
  },
];

/** The --proxy flags as parsed, or undefined without --proxy; a bad value is a usage error. */
export function proxyFlags(p: Parsed): ProxySend | undefined {
  const sourceText = one(p, "proxy-source");
  if (one(p, "proxy") === undefined) {
    if (sourceText !== undefined) throw new UsageError("--proxy-source needs --proxy v1|v2");
    return undefined;
  }
  const version = enumFlag(p, "proxy", ["v1", "v2"] as const);
  if (sourceText === undefined) return { version };
  const source = addrArg(sourceText);
  if (source.transport !== "tcp" || (!parseIpv4(source.hostname) && !parseIpv6(source.hostname))) {
    throw new UsageError(`--proxy-source: "${sourceText}" must be an IP address and port, e.g. 203.0.113.7:5555`);
  }
  return { version, source };
}

/**
 * The PROXY header belongs in clear before the handshake, but the Transport starts TLS at
 * connect: the header would travel inside TLS, where no server reads it. Refused, not sent.
 */
export function refuseProxyWithTls(p: Parsed, send: ProxySend | undefined): void {
  if (send && has(p, "tls")) {
    throw new UsageError("--proxy with --tls: not supported (the header would travel inside TLS)");
  }
}

/** `rt` with a transport that sends the header, when --proxy is given. */
export function withProxyFlags(rt: Runtime, p: Parsed): Runtime {
  const send = proxyFlags(p);
  refuseProxyWithTls(p, send);
  return send ? { ...rt, transport: proxyingTransport(rt.transport, send) } : rt;
}
