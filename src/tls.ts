// TLS in the Transport contract: the options a listener and a connector take (PEM text,
// read by the caller, so src/ never touches files), what a runtime's TLS can do, and the
// one-voice sentences for verification failures (the codes live in net-errors.ts).

/** A TLS listener's settings. `cert` may hold a full chain (leaf first). */
export interface TlsServerOptions {
  cert: string;
  key: string;
  /** CA certificates (PEM) that client certificates must chain to; with `clientAuth`. */
  clientCa?: string;
  /** "require": no valid client certificate, no connection. "request": ask, accept without. */
  clientAuth?: "require" | "request";
  /** Lowest protocol version accepted. Default "1.2". */
  minVersion?: "1.2" | "1.3";
  /** ALPN protocols offered, in preference order. */
  alpn?: string[];
}

/** A TLS client's settings. Without `ca` the runtime's own trust store is used. */
export interface TlsClientOptions {
  /** Trusted CA certificates (PEM), instead of the runtime's default store. */
  ca?: string;
  /** Name to verify the certificate against and to send as SNI; default the host connected to. */
  servername?: string;
  /** Client certificate and key (PEM) for mutual TLS. */
  cert?: string;
  key?: string;
  /** Skip verification of the server's certificate (explicit, the CLI warns). */
  insecure?: boolean;
  alpn?: string[];
}

/** The handshake's progress on one connection. */
export interface TlsConnState {
  /** The handshake completed (and a required client certificate passed). */
  readonly established: boolean;
  /** The ALPN protocol agreed on, once established (undefined: none). */
  readonly alpn?: string;
}

/** What a runtime's TLS can do; the CLI refuses a flag the runtime cannot honour. */
export interface TlsSupport {
  /** The server can ask for a client certificate ("require"). */
  clientAuthRequire: boolean;
  /** The server can ask for an optional client certificate ("request"). */
  clientAuthRequest: boolean;
  /** The server's minimum version can be raised to 1.3. */
  minVersion13: boolean;
  /** Listener.reloadTls exists. */
  reload: boolean;
  /** The client can skip verification (--insecure). */
  insecure: boolean;
  /** The client can check the certificate against a name other than the host it connects to. */
  servername: boolean;
}

/** Unusable TLS settings (a key that does not match, a PEM that does not parse). */
export class TlsConfigError extends Error {
  override name = "TlsConfigError";
}

/** The codes of net-errors.ts that are TLS verification or handshake failures. */
export const TLS_CODES = ["ECERTUNTRUSTED", "ECERTEXPIRED", "ECERTNAME", "ECERTREFUSED", "ETLS"] as const;
export type TlsErrorCode = typeof TLS_CODES[number];

export function isTlsCode(code: string): code is TlsErrorCode {
  return (TLS_CODES as readonly string[]).includes(code);
}

/**
 * "tls: certificate for 127.0.0.1 is not trusted: unknown CA (ECERTUNTRUSTED)": the same
 * sentence on every runtime. `name` is the name verified (servername or host); `detail`
 * the runtime's words, kept only for ETLS, where they are the only clue.
 */
export function tlsReason(code: TlsErrorCode, name?: string, detail?: string): string {
  const who = name ? ` for ${name}` : "";
  switch (code) {
    case "ECERTUNTRUSTED":
      return `tls: certificate${who} is not trusted: unknown CA (${code})`;
    case "ECERTEXPIRED":
      return `tls: certificate${who} has expired (${code})`;
    case "ECERTNAME":
      return `tls: certificate is not valid${name ? ` for ${name}` : " for this name"}: wrong name (${code})`;
    case "ECERTREFUSED":
      return `tls: the server refused our client certificate, or needed one (${code})`;
    case "ETLS":
      return `tls: handshake failed${detail ? `: ${detail}` : ""} (${code})`;
  }
}

/**
 * The useful words of a TLS library's message: OpenSSL's "...:SSL routines:ssl3_get_record:
 * wrong version number" becomes "wrong version number"; one line, bounded.
 */
export function tlsDetail(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const ssl = /SSL routines:(?:[^:\n]*:)?([^:\n]+)/.exec(raw);
  const text = (ssl ? ssl[1]! : raw).replace(/\s+/g, " ").trim();
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
