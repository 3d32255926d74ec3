// Reading PEM files for TLS flags through the Host (src/ never touches files itself), and
// refusing a flag this runtime's TLS cannot honour (Transport.tlsSupport) before any work.

import type { Host } from "../host.ts";
import type { Transport } from "../transport.ts";
import type { TlsSupport } from "../tls.ts";
import { UsageError } from "./args.ts";

/** A TLS file that cannot be used: one line naming the flag and the file, exit 1. */
export class TlsFileError extends Error {
  override name = "TlsFileError";
}

/** PEM files are small; anything bigger is not a certificate or key. */
const MAX_PEM_BYTES = 1024 * 1024;

/** The text of a PEM file given as `--flag FILE`; checks it holds a PEM block. */
export async function readPem(host: Host, flag: string, path: string, kind: "CERTIFICATE" | "KEY"): Promise<string> {
  const name = `--${flag} ${JSON.stringify(path)}`;
  let bytes: Uint8Array;
  try {
    if ((await host.fileSize(path)) > MAX_PEM_BYTES) {
      throw new TlsFileError(`${name}: larger than 1 MiB, not a PEM file`);
    }
    bytes = await host.readFile(path);
  } catch (err) {
    if (err instanceof TlsFileError) throw err;
    throw new TlsFileError(`cannot read ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const text = new TextDecoder().decode(bytes);
  const marker = kind === "KEY" ? /-----BEGIN [A-Z ]*PRIVATE KEY-----/ : /-----BEGIN CERTIFICATE-----/;
  if (!marker.test(text)) {
    throw new TlsFileError(`${name}: no PEM ${kind === "KEY" ? "private key" : "certificate"} in it`);
  }
  return text;
}

/** Refuse a feature the runtime's TLS lacks, naming the flag and the runtime. */
export function requireSupport(transport: Transport, what: keyof TlsSupport | "tls", flag: string): void {
  const s = transport.tlsSupport;
  if (s === undefined) throw new UsageError(`${flag}: TLS is not available on ${transport.runtime}`);
  if (what !== "tls" && !s[what]) {
    throw new UsageError(`${flag} is not supported on ${transport.runtime} (see docs/tls.md)`);
  }
}
