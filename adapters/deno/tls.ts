// TLS for the Deno adapter, with Deno's own TLS (rustls): Deno.listenTls on the server,
// Deno.startTls over a Deno.connect on the client (so the name verified can differ from
// the host connected to), Deno.connectTls when a client certificate is given (startTls
// takes none). Deno.listenTls's accept() returns at TCP accept; the handshake runs on the
// first read, so a connection opens (and is counted and timed) before its handshake.
//
// What Deno's TLS cannot do (reported in DENO_TLS_SUPPORT, refused by the CLI):
//   - a listener cannot ask for client certificates (no option in Deno.listenTls);
//   - the minimum version cannot be raised to 1.3 (rustls: 1.2 and 1.3, not configurable);
//   - a listener's certificate cannot be swapped (no reload);
//   - a client cannot skip verification (only the whole-process flag
//     --unsafely-ignore-certificate-errors does that).

import { type Addr, ConnectError, ConnError, TlsConfigError } from "../../src/transport.ts";
import type { TlsClientOptions, TlsConnState, TlsServerOptions, TlsSupport } from "../../src/tls.ts";
import type { NetErrorCode } from "../../src/net-errors.ts";
import type { DenoConn, DenoListener } from "./deno-types.ts";
import { deno } from "./deno-types.ts";
import { denoNetCode, rawDetail, toError } from "./errors.ts";

export const DENO_TLS_SUPPORT: TlsSupport = {
  clientAuthRequire: false,
  clientAuthRequest: false,
  minVersion13: false,
  reload: false,
  insecure: false,
  servername: true,
};

/** A Deno.TlsConn: a DenoConn with a handshake. */
export interface DenoTlsConn extends DenoConn {
  handshake(): Promise<{ alpnProtocol: string | null }>;
}

interface DenoTlsApi {
  listenTls(
    o: { hostname: string; port: number; reusePort?: boolean; cert: string; key: string; alpnProtocols?: string[] },
  ): DenoListener;
  startTls(
    conn: DenoConn,
    o: { hostname: string; caCerts?: string[]; alpnProtocols?: string[] },
  ): Promise<DenoTlsConn>;
  connectTls(o: {
    hostname: string;
    port: number;
    caCerts?: string[];
    cert: string;
    key: string;
    alpnProtocols?: string[];
  }): Promise<DenoTlsConn>;
}

function api(): DenoTlsApi {
  return deno() as unknown as DenoTlsApi;
}

/** Refuse what Deno cannot do, rather than ignore it. */
export function checkServerOptions(o: TlsServerOptions): void {
  if (o.clientAuth !== undefined) throw new TlsConfigError("Deno cannot ask for client certificates (Deno.listenTls)");
  if (o.minVersion === "1.3") throw new TlsConfigError("Deno cannot raise the TLS minimum to 1.3 (Deno.listenTls)");
}

export function listenTls(addr: Addr & { transport: "tcp" }, o: TlsServerOptions, reusePort = false): DenoListener {
  checkServerOptions(o);
  return api().listenTls({
    hostname: addr.hostname,
    port: addr.port,
    ...(reusePort ? { reusePort: true } : {}),
    cert: o.cert,
    key: o.key,
    ...(o.alpn ? { alpnProtocols: o.alpn } : {}),
  });
}

/** Mutable handshake state of one connection. */
export class DenoTlsState implements TlsConnState {
  established = false;
  alpn: string | undefined;
  /** Our side is the client: a fatal alert is the server refusing our certificate. */
  client = false;
}

/** Run the handshake in the background (reads drive it too) and note when it is done. */
export function watchHandshake(conn: DenoConn): DenoTlsState {
  const state = new DenoTlsState();
  (conn as DenoTlsConn).handshake().then((info) => {
    state.established = true;
    state.alpn = info.alpnProtocol ?? undefined;
  }, () => {/* the read loop reports the failure */});
  return state;
}

/** rustls's words, as the contract's codes. `client`: we are the client (an alert is the server's refusal). */
export function denoTlsCode(err: unknown, client: boolean): NetErrorCode {
  const e = toError(err);
  const m = e.message;
  if (/invalid peer certificate: (UnknownIssuer|BadSignature)/.test(m)) return "ECERTUNTRUSTED";
  if (/invalid peer certificate: (Expired|NotValidYet)/.test(m)) return "ECERTEXPIRED";
  if (/not valid for name|NotValidForName/.test(m)) return "ECERTNAME";
  if (client && /received fatal alert: (CertificateRequired|BadCertificate|UnknownCA|CertificateUnknown)/.test(m)) {
    return "ECERTREFUSED";
  }
  // The peer's TCP close without a TLS close_notify: the peer is gone mid-stream, as with a
  // reset; which of the two a client sees when a server cuts it (e.g. refusing its
  // certificate) is a race, so both read as ECONNRESET (net-errors.ts, netCode).
  if (/peer closed connection without sending TLS close_notify/.test(m)) return "ECONNRESET";
  if (e.name === "InvalidData" || /fatal alert|corrupt message|peer is incompatible|HandshakeFailure/.test(m)) {
    return "ETLS";
  }
  return denoNetCode(err);
}

export function tlsConnError(err: unknown, client: boolean): ConnError {
  return new ConnError(denoTlsCode(err, client), rawDetail(err));
}

/** Upgrade a connected TCP conn (or connect with a client certificate) and finish the handshake. */
export async function clientHandshake(
  addr: Addr & { transport: "tcp" },
  o: TlsClientOptions,
  tcp: DenoConn | undefined,
): Promise<DenoTlsConn> {
  const name = o.servername ?? addr.hostname;
  if (o.insecure) throw new TlsConfigError("Deno cannot skip certificate verification (--insecure)");
  if (!tcp && o.servername !== undefined && o.servername !== addr.hostname) {
    throw new TlsConfigError(
      "Deno cannot verify a client-certificate connection against another name (--tls-servername)",
    );
  }
  const caCerts = o.ca !== undefined ? { caCerts: [o.ca] } : {};
  const alpn = o.alpn ? { alpnProtocols: o.alpn } : {};
  let conn: DenoTlsConn | undefined;
  try {
    conn = tcp ? await api().startTls(tcp, { hostname: name, ...caCerts, ...alpn }) : await api().connectTls({
      hostname: addr.hostname,
      port: addr.port,
      cert: o.cert ?? "",
      key: o.key ?? "",
      ...caCerts,
      ...alpn,
    });
    await conn.handshake();
    return conn;
  } catch (err) {
    try {
      (conn ?? tcp)?.close();
    } catch {
      // already closed
    }
    if (err instanceof TlsConfigError) throw err;
    const code = denoTlsCode(err, true);
    if (code.startsWith("ECERT") && code !== "ECERTREFUSED") throw new ConnectError(addr, code, name);
    throw new ConnectError(addr, code, rawDetail(err));
  }
}
