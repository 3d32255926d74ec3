// `serve`'s TLS: the flags, the PEM files read through the Host, the refusal of what this
// runtime's TLS cannot do, and the certificate reload on SIGHUP.

import type { Runtime } from "../host.ts";
import type { Logger } from "../log.ts";
import type { Addr, Listener } from "../transport.ts";
import type { TlsServerOptions } from "../tls.ts";
import { formatAddr } from "../addr.ts";
import { enumFlag, type FlagSpec, has, one, type Parsed, UsageError } from "./args.ts";
import { readPem, requireSupport } from "./tls-files.ts";

export const TLS_SERVE_FLAGS: readonly FlagSpec[] = [
  {
    name: "tls-cert",
    kind: "string",
    value: "FILE",
    help: "serve TLS with this certificate (PEM; a full chain, leaf first); with --tls-key",
  },
  { name: "tls-key", kind: "string", value: "FILE", help: "the certificate's private key (PEM)" },
  {
    name: "tls-client-ca",
    kind: "string",
    value: "FILE",
    help: "CA certificates (PEM) that client certificates must chain to; with --tls-client-auth",
  },
  {
    name: "tls-client-auth",
    kind: "string",
    value: "require|request",
    help: "ask clients for a certificate: require one, or only request it",
  },
  { name: "tls-min", kind: "string", value: "1.2|1.3", help: "lowest TLS version accepted", default: "1.2" },
  { name: "tls-alpn", kind: "string", value: "LIST", help: "ALPN protocols offered, comma-separated" },
];

const NEEDS_CERT = ["tls-client-ca", "tls-client-auth", "tls-alpn"] as const;

/** Paths of the files a reload reads again. */
interface TlsPaths {
  cert: string;
  key: string;
  clientCa?: string;
}

export interface ServeTls {
  options: TlsServerOptions;
  paths: TlsPaths;
}

/** Usage checks only (exit 2): run before anything is read or bound. */
export function checkServeTlsFlags(rt: Runtime, p: Parsed, addrs: readonly Addr[]): boolean {
  const cert = one(p, "tls-cert");
  const key = one(p, "tls-key");
  if (cert === undefined && key === undefined) {
    for (const f of NEEDS_CERT) if (has(p, f)) throw new UsageError(`--${f} needs --tls-cert and --tls-key`);
    return false;
  }
  if (cert === undefined || key === undefined) throw new UsageError("--tls-cert and --tls-key go together");
  const unix = addrs.find((a) => a.transport === "unix");
  if (unix) throw new UsageError(`--tls-cert: TLS is served on TCP addresses only, not ${formatAddr(unix)}`);
  const { transport } = rt;
  requireSupport(transport, "tls", "--tls-cert");
  const auth = has(p, "tls-client-auth") ? enumFlag(p, "tls-client-auth", ["require", "request"] as const) : undefined;
  if ((auth === undefined) !== (one(p, "tls-client-ca") === undefined)) {
    throw new UsageError("--tls-client-auth and --tls-client-ca go together");
  }
  if (auth === "require") requireSupport(transport, "clientAuthRequire", "--tls-client-auth require");
  if (auth === "request") requireSupport(transport, "clientAuthRequest", "--tls-client-auth request");
  const min = enumFlag(p, "tls-min", ["1.2", "1.3"] as const);
  if (min === "1.3") requireSupport(transport, "minVersion13", "--tls-min 1.3");
  const alpn = one(p, "tls-alpn");
  if (alpn !== undefined && alpnList(alpn).length === 0) throw new UsageError("--tls-alpn: no protocol names");
  return true;
}

function alpnList(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

async function readAll(rt: Runtime, paths: TlsPaths): Promise<Pick<TlsServerOptions, "cert" | "key" | "clientCa">> {
  const { host } = rt;
  return {
    cert: await readPem(host, "tls-cert", paths.cert, "CERTIFICATE"),
    key: await readPem(host, "tls-key", paths.key, "KEY"),
    ...(paths.clientCa !== undefined
      ? { clientCa: await readPem(host, "tls-client-ca", paths.clientCa, "CERTIFICATE") }
      : {}),
  };
}

/** The listener TLS options, files read (TlsFileError, exit 1). Call after checkServeTlsFlags said true. */
export async function serveTlsOptions(rt: Runtime, p: Parsed): Promise<ServeTls> {
  const clientCa = one(p, "tls-client-ca");
  const paths: TlsPaths = { cert: one(p, "tls-cert")!, key: one(p, "tls-key")!, ...(clientCa ? { clientCa } : {}) };
  const auth = one(p, "tls-client-auth") as "require" | "request" | undefined;
  const alpn = one(p, "tls-alpn");
  const options: TlsServerOptions = {
    ...await readAll(rt, paths),
    ...(auth ? { clientAuth: auth } : {}),
    minVersion: enumFlag(p, "tls-min", ["1.2", "1.3"] as const),
    ...(alpn !== undefined ? { alpn: alpnList(alpn) } : {}),
  };
  return { options, paths };
}

/**
 * SIGHUP: read the files again and hand them to every listener; new connections get the
 * new certificate, open ones keep theirs. A failed reload keeps the old ones and says why.
 */
export function reloadOnSighup(rt: Runtime, tls: ServeTls, listeners: readonly Listener[], log: Logger): () => void {
  let current = tls.options;
  let busy = false;
  return rt.host.onSignal("SIGHUP", () => {
    if (busy) return;
    busy = true;
    void (async () => {
      if (!rt.transport.tlsSupport?.reload || listeners.some((l) => !l.reloadTls)) {
        log.warn("SIGHUP: cannot reload the TLS certificate on this runtime; keeping the old one", {
          runtime: rt.host.runtime,
        });
        return;
      }
      try {
        const next = { ...current, ...await readAll(rt, tls.paths) };
        for (const l of listeners) l.reloadTls!(next);
        current = next;
        log.info("tls reloaded", { cert: tls.paths.cert });
      } catch (err) {
        log.warn("tls reload failed; keeping the old certificate", {
          error: err instanceof Error ? err.message : String(err),
        });
      }
    })().finally(() => busy = false);
  });
}
