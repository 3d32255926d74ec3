// The TLS flags of the client commands (send, request; the load generator can take the
// same list and call clientTlsOptions): --tls, --tls-ca, --tls-servername,
// --tls-cert/--tls-key, --insecure.

import type { Runtime } from "../host.ts";
import type { TlsClientOptions } from "../tls.ts";
import { type FlagSpec, has, one, type Parsed, UsageError } from "./args.ts";
import { readPem, requireSupport } from "./tls-files.ts";

export const TLS_CLIENT_FLAGS: readonly FlagSpec[] = [
  { name: "tls", kind: "boolean", help: "speak TLS; the server's certificate is verified" },
  {
    name: "tls-ca",
    kind: "string",
    value: "FILE",
    help: "trust the CA certificates in FILE (PEM) instead of the runtime's own",
  },
  {
    name: "tls-servername",
    kind: "string",
    value: "NAME",
    help: "verify the certificate for NAME and send it as SNI (default: the host connected to)",
  },
  { name: "tls-cert", kind: "string", value: "FILE", help: "client certificate (PEM) for mutual TLS; with --tls-key" },
  { name: "tls-key", kind: "string", value: "FILE", help: "the client certificate's private key (PEM)" },
  {
    name: "insecure",
    kind: "boolean",
    help: "with --tls: do not verify the server's certificate (warned; for tests only)",
  },
];

const NEEDS_TLS = ["tls-ca", "tls-servername", "tls-cert", "tls-key"] as const;

/**
 * The TLS options of a client command, or undefined without --tls. Usage errors first
 * (exit 2), then the files are read (TlsFileError, exit 1). `--insecure` prints its warning.
 */
export async function clientTlsOptions(rt: Runtime, p: Parsed): Promise<TlsClientOptions | undefined> {
  if (!has(p, "tls")) {
    for (const f of [...NEEDS_TLS, "insecure"]) {
      if (has(p, f)) throw new UsageError(`--${f} needs --tls`);
    }
    return undefined;
  }
  const { transport, host } = rt;
  requireSupport(transport, "tls", "--tls");
  const cert = one(p, "tls-cert");
  const key = one(p, "tls-key");
  if ((cert === undefined) !== (key === undefined)) throw new UsageError("--tls-cert and --tls-key go together");
  const servername = one(p, "tls-servername");
  if (servername !== undefined && servername.trim() === "") throw new UsageError("--tls-servername: empty name");
  if (servername !== undefined) requireSupport(transport, "servername", "--tls-servername");
  const insecure = has(p, "insecure");
  if (insecure) requireSupport(transport, "insecure", "--insecure");
  if (insecure && one(p, "tls-ca") !== undefined) throw new UsageError("--insecure and --tls-ca contradict each other");
  const caPath = one(p, "tls-ca");
  const opts: TlsClientOptions = {
    ...(caPath !== undefined ? { ca: await readPem(host, "tls-ca", caPath, "CERTIFICATE") } : {}),
    ...(servername !== undefined ? { servername } : {}),
    ...(cert !== undefined ? { cert: await readPem(host, "tls-cert", cert, "CERTIFICATE") } : {}),
    ...(key !== undefined ? { key: await readPem(host, "tls-key", key, "KEY") } : {}),
    ...(insecure ? { insecure } : {}),
  };
  if (insecure) {
    await host.stderr.write("switchboard: warning: --insecure: the server's certificate is not verified\n");
  }
  return opts;
}
