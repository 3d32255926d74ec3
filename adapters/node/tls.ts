// TLS for the Node adapter, with node:tls. A listener accepts plain TCP (net.Server) and
// wraps each socket in a server-side TLSSocket at once, so the connection opens (and is
// counted and timed by the server core) at TCP accept, before the handshake; the secure
// context is a variable, so a reload only changes what new connections get.

import * as net from "node:net";
import * as tls from "node:tls";
import { type Addr, ConnectError, ConnError, TlsConfigError } from "../../src/transport.ts";
import type { TlsClientOptions, TlsConnState, TlsServerOptions, TlsSupport } from "../../src/tls.ts";
import type { NetErrorCode } from "../../src/net-errors.ts";
import { nodeNetCode, rawDetail } from "./errors.ts";
import { x509Code } from "../../src/adapter-kit/x509-codes.ts";

export const NODE_TLS_SUPPORT: TlsSupport = {
  clientAuthRequire: true,
  clientAuthRequest: true,
  minVersion13: true,
  reload: true,
  insecure: true,
  servername: true,
};

function secureContext(o: TlsServerOptions): tls.SecureContext {
  try {
    return tls.createSecureContext({
      cert: o.cert,
      key: o.key,
      ...(o.clientCa !== undefined ? { ca: o.clientCa } : {}),
      minVersion: o.minVersion === "1.3" ? "TLSv1.3" : "TLSv1.2",
    });
  } catch (err) {
    throw new TlsConfigError(`unusable TLS certificate or key: ${rawDetail(err)}`);
  }
}

/** Mutable handshake state of one connection. */
export class NodeTlsState implements TlsConnState {
  established = false;
  alpn: string | undefined;
  /** Called once the handshake passed (the connection then hands over what it held back). */
  onEstablished: (() => void) | undefined;
}

/** The server side: wraps accepted sockets; `reload` swaps what new ones get. */
export class NodeTlsServer {
  #ctx: tls.SecureContext;
  #opts: TlsServerOptions;
  constructor(opts: TlsServerOptions) {
    this.#opts = opts;
    this.#ctx = secureContext(opts);
  }

  reload(opts: TlsServerOptions): void {
    const ctx = secureContext(opts); // throws first: the old context stays on failure
    this.#ctx = ctx;
    this.#opts = opts;
  }

  wrap(socket: net.Socket, highWaterMark: number): { socket: tls.TLSSocket; state: NodeTlsState } {
    const o = this.#opts;
    const state = new NodeTlsState();
    const ts = new tls.TLSSocket(
      socket,
      <tls.TLSSocketOptions> {
        isServer: true,
        highWaterMark,
        secureContext: this.#ctx,
        requestCert: o.clientAuth !== undefined,
        rejectUnauthorized: o.clientAuth === "require",
        ...(o.alpn ? { ALPNProtocols: o.alpn } : {}),
      },
    );
    // First in line, before node:tls's own check (which closes with a plain FIN): an
    // untrusted client certificate gets a reset, so the client cannot take the refusal for a
    // clean end (OpenSSL sends no alert: Node verifies client certificates after the handshake).
    ts.prependOnceListener("secure", () => {
      // node:tls sets `authorized` only after this listener: ask the handshake's verdict directly.
      const verdict = (ts as unknown as { _handle?: { verifyError?(): Error | null } })._handle?.verifyError?.();
      if (o.clientAuth === "require" && verdict) {
        const why = `: ${(verdict as Error & { code?: string }).code ?? verdict.message}`;
        // The reason first (the connection's error listener records it), then the reset.
        ts.emit("error", Object.assign(new Error(`client certificate not trusted${why}`), { code: "ETLSCLIENT" }));
        socket.resetAndDestroy(); // the TLS socket closes with it (destroying both crashes Node 20)
        return;
      }
      state.established = true;
      state.alpn = typeof ts.alpnProtocol === "string" ? ts.alpnProtocol : undefined;
      state.onEstablished?.();
    });
    return { socket: ts, state };
  }
}

/** node:tls's verification codes, as the contract's (OpenSSL's X509 names). */
export function nodeTlsCode(err: unknown): NetErrorCode {
  const code = (err as { code?: string } | undefined)?.code ?? "";
  if (code === "ETLSCLIENT") return "ETLS"; // a server refusing a client's certificate: a handshake failure in its log
  const cert = x509Code(code);
  if (cert) return cert;
  if (/ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE)/.test(code)) {
    return code.includes("HANDSHAKE_FAILURE") ? "ETLS" : "ECERTREFUSED";
  }
  if (code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS")) return "ETLS";
  return nodeNetCode(err);
}

/** An error on an established TLS connection (a late alert, a reset) as a ConnError. */
export function tlsConnError(err: unknown): ConnError {
  return new ConnError(nodeTlsCode(err), rawDetail(err));
}

/** tls.connect options from the contract's. */
export function clientOptions(addr: Addr & { transport: "tcp" }, o: TlsClientOptions): tls.ConnectionOptions {
  const servername = o.servername ?? addr.hostname;
  return {
    host: addr.hostname,
    port: addr.port,
    ...(o.ca !== undefined ? { ca: o.ca } : {}),
    ...(o.cert !== undefined ? { cert: o.cert } : {}),
    ...(o.key !== undefined ? { key: o.key } : {}),
    // SNI must not be an IP address (RFC 6066); the name is still verified below.
    ...(net.isIP(servername) ? {} : { servername }),
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(servername, cert),
    rejectUnauthorized: o.insecure !== true,
    minVersion: "TLSv1.2",
    ...(o.alpn ? { ALPNProtocols: o.alpn } : {}),
  };
}

/** A handshake failure as the ConnectError connect() rejects with: names what was verified. */
export function tlsConnectError(addr: Addr & { transport: "tcp" }, o: TlsClientOptions, err: unknown): ConnectError {
  const code = nodeTlsCode(err);
  if (code === "ETLS" || !code.startsWith("ECERT")) {
    return new ConnectError(addr, code, code === "ETLS" ? rawDetail(err) : rawDetail(err));
  }
  return new ConnectError(addr, code, o.servername ?? addr.hostname);
}
