// TLS for the Bun adapter, with Bun's own TLS (Bun.listen / Bun.connect with `tls`). Bun
// fires `open` at TCP accept and `handshake` once the handshake is done, so a connection
// opens (and is counted and timed) before its handshake; a client's connect() resolves
// only after `handshake` reported success.
//
// What Bun cannot do (reported in BUN_TLS_SUPPORT, refused by the CLI): swap a listener's
// certificate (Bun's listener reload() takes socket handlers, not TLS settings).

import { type Addr, ConnectError, ConnError } from "../../src/transport.ts";
import type { TlsClientOptions, TlsConnState, TlsServerOptions, TlsSupport } from "../../src/tls.ts";
import type { NetErrorCode } from "../../src/net-errors.ts";
import type { BunSocket, BunSysError } from "./bun-types.ts";
import { bunNetCode, rawDetail } from "./errors.ts";
import { x509Code } from "../../src/adapter-kit/x509-codes.ts";

export const BUN_TLS_SUPPORT: TlsSupport = {
  clientAuthRequire: true,
  clientAuthRequest: true,
  minVersion13: true,
  reload: false,
  insecure: true,
  servername: true,
};

/** OpenSSL/BoringSSL protocol switches (SSL_OP_NO_*), as node:tls's `secureOptions` takes them. */
const SSL_OP_NO_TLSv1 = 0x04000000;
const SSL_OP_NO_TLSv1_1 = 0x10000000;
const SSL_OP_NO_TLSv1_2 = 0x08000000;

/** Bun's ALPNProtocols takes the wire form (each name after its length byte), not a list. */
function alpnWire(names: string[]): Uint8Array {
  const parts = names.map((n) => new TextEncoder().encode(n));
  const out = new Uint8Array(parts.reduce((sum, p) => sum + 1 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out[at++] = p.length;
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bun.listen's `tls` from the contract's options. */
export function serverTls(o: TlsServerOptions): Record<string, unknown> {
  const floor = SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | (o.minVersion === "1.3" ? SSL_OP_NO_TLSv1_2 : 0);
  return {
    cert: o.cert,
    key: o.key,
    ...(o.clientCa !== undefined ? { ca: o.clientCa } : {}),
    requestCert: o.clientAuth !== undefined,
    rejectUnauthorized: o.clientAuth === "require",
    secureOptions: floor,
    ...(o.alpn ? { ALPNProtocols: alpnWire(o.alpn) } : {}),
  };
}

/** Bun.connect's `tls`. */
export function clientTls(addr: Addr & { transport: "tcp" }, o: TlsClientOptions): Record<string, unknown> {
  return {
    serverName: o.servername ?? addr.hostname,
    ...(o.ca !== undefined ? { ca: o.ca } : {}),
    ...(o.cert !== undefined ? { cert: o.cert } : {}),
    ...(o.key !== undefined ? { key: o.key } : {}),
    rejectUnauthorized: o.insecure !== true,
    secureOptions: SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1,
    ...(o.alpn ? { ALPNProtocols: alpnWire(o.alpn) } : {}),
  };
}

/** Mutable handshake state of one connection. */
export class BunTlsState implements TlsConnState {
  established = false;
  alpn: string | undefined;
}

/** Bun reports node:tls's codes (OpenSSL's X509 names): as the contract's. */
export function bunTlsCode(err: unknown, client: boolean): NetErrorCode {
  const code = (err as BunSysError | undefined)?.code ?? "";
  const cert = x509Code(code);
  if (cert) return cert;
  const text = `${code} ${(err as Error | undefined)?.message ?? ""}`;
  if (client && /CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN/i.test(text)) {
    return "ECERTREFUSED";
  }
  if (/SSL|TLS|handshake|secure TLS connection/i.test(text)) return "ETLS";
  return bunNetCode(err);
}

export function tlsConnError(err: unknown, client: boolean): ConnError {
  return new ConnError(bunTlsCode(err, client), rawDetail(err));
}

/** A client handshake failure as the ConnectError connect() rejects with. */
export function tlsConnectError(addr: Addr & { transport: "tcp" }, o: TlsClientOptions, err: unknown): ConnectError {
  const code = bunTlsCode(err, true);
  if (code.startsWith("ECERT") && code !== "ECERTREFUSED") {
    return new ConnectError(addr, code, o.servername ?? addr.hostname);
  }
  return new ConnectError(addr, code === "ECONNRESET" || code === "EUNKNOWN" ? "ETLS" : code, rawDetail(err));
}

/** The server's `handshake` event: note success, or why it failed (the close carries it). */
export function serverHandshake(
  socket: BunSocket<unknown>,
  state: BunTlsState | undefined,
  o: TlsServerOptions,
  ok: boolean,
  err: Error | null,
  fail: (err: Error) => void,
): void {
  if (!state) return;
  if (o.clientAuth === "require" && (!ok || err)) {
    fail(new ConnError("ETLS", `client certificate missing or not trusted${err ? `: ${err.message}` : ""}`));
    socket.terminate();
    return;
  }
  if (!ok) return fail(tlsConnError(err ?? new Error("TLS handshake failed"), false));
  const alpn = (socket as { alpnProtocol?: unknown }).alpnProtocol;
  state.alpn = typeof alpn === "string" ? alpn : undefined;
  state.established = true;
}
