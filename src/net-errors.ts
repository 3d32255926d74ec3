// The errors of the Transport contract (and of Host.readFile): a closed set of codes, one
// human sentence for each, and the error classes that carry them. Adapters only map their runtime's raw
// error to a code; every message is built here, so the same failure reads the same on
// Node, Deno and Bun (Node says "write EPIPE", Bun "... (EPIPE)", Deno "Broken pipe (os
// error 32)" for one and the same broken connection).

import type { Addr } from "./transport.ts";
import { formatAddr } from "./addr.ts";
import { isTlsCode, tlsDetail, tlsReason } from "./tls.ts";

/** The sentence for each code the contract reports (docs/architecture.md lists them too); exported as NET_ERROR_SENTENCES. */
export const SENTENCES = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  ECONNABORTED: "connection aborted",
  ETIMEDOUT: "timed out",
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "temporary failure in name resolution",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EMFILE: "too many open files",
  ENFILE: "too many open files in system",
  EINVAL: "invalid argument",
  EUNKNOWN: "unexpected error",
  // TLS (src/tls.ts builds the full sentence, with the name verified)
  ECERTUNTRUSTED: "tls: certificate is not trusted: unknown CA",
  ECERTEXPIRED: "tls: certificate has expired",
  ECERTNAME: "tls: certificate is not valid for this name",
  ECERTREFUSED: "tls: the server refused our client certificate, or needed one",
  ETLS: "tls: handshake failed",
} as const;

/** Every code a Transport error may carry. Anything an adapter cannot map is EUNKNOWN. */
export type NetErrorCode = keyof typeof SENTENCES;

export const NET_ERROR_CODES: readonly NetErrorCode[] = Object.keys(SENTENCES) as NetErrorCode[];

export function isNetErrorCode(code: unknown): code is NetErrorCode {
  return typeof code === "string" && Object.hasOwn(SENTENCES, code);
}

/**
 * The contract's code for an OS error name (errno style: "EPIPE", "ECONNRESET", ...).
 * EPIPE and ENOTCONN become ECONNRESET: on an established connection all three mean "the
 * peer is gone and what we were sending is lost", and which one surfaces is a race (a
 * read sees the RST as ECONNRESET, a write after it EPIPE; a FIN followed by an RST is
 * EPIPE on Linux; Bun's failed write loses the errno altogether), so keeping them apart
 * would make one failure read differently from run to run and runtime to runtime.
 */
export function netCode(errnoName: string | undefined): NetErrorCode {
  if (errnoName === "EPIPE" || errnoName === "ENOTCONN") return "ECONNRESET";
  return isNetErrorCode(errnoName) ? errnoName : "EUNKNOWN";
}

/** "connection refused (ECONNREFUSED)"; EUNKNOWN keeps the runtime's own words as the only clue. */
export function netReason(code: NetErrorCode, detail?: string): string {
  const text = code === "EUNKNOWN" && detail ? `${SENTENCES.EUNKNOWN}: ${detail}` : SENTENCES[code];
  return `${text} (${code})`;
}

/** Any error of the contract: `code` from the closed set, `message` built from the table. */
export class NetError extends Error {
  override name = "NetError";
  constructor(readonly code: NetErrorCode, message: string) {
    super(message);
  }
}

/**
 * A connect attempt failed: "cannot connect to 127.0.0.1:1: connection refused (ECONNREFUSED)".
 * `detail` replaces the sentence for our own timeout ("timed out after 10000 ms") and is
 * kept after it for EUNKNOWN.
 */
export class ConnectError extends NetError {
  override name = "ConnectError";
  /** The message without its "cannot connect to ADDR: " prefix: "connection refused (ECONNREFUSED)". */
  readonly reason: string;
  /** `hint`: what the user can do, when the runtime says (a missing Deno permission flag). */
  constructor(readonly addr: Addr, code: NetErrorCode, detail?: string, hint?: string) {
    const reason = withHint(reasonWith(code, detail), hint);
    super(code, `cannot connect to ${formatAddr(addr)}: ${reason}`);
    this.reason = reason;
  }
}

/** Listening failed: "cannot listen on unix:/missing/s.sock: no such file or directory (ENOENT)". */
export class ListenError extends NetError {
  override name = "ListenError";
  /** The message without its "cannot listen on ADDR: " prefix: "address already in use (EADDRINUSE)". */
  readonly reason: string;
  constructor(readonly addr: Addr, code: NetErrorCode, detail?: string, hint?: string) {
    const reason = withHint(reasonWith(code, detail), hint);
    super(code, `cannot listen on ${formatAddr(addr)}: ${reason}`);
    this.reason = reason;
  }
}

/**
 * An established connection failed (what a handler's close(conn, err) receives, unless
 * the handler itself threw), or accepting one did: "connection reset by peer (ECONNRESET)".
 * The holder of the connection knows which one it was and adds that context itself.
 */
export class ConnError extends NetError {
  override name = "ConnError";
  constructor(code: NetErrorCode, detail?: string) {
    // A TLS failure keeps the runtime's reason: it is what tells a wrong version from garbage.
    super(code, code === "ETLS" ? tlsReason(code, undefined, tlsDetail(detail)) : netReason(code, detail));
  }
}

/**
 * Host.readFile failed: "no such file or directory (ENOENT)". The caller names the file
 * ("cannot read --data x.json: ..."), as with ConnError.
 */
export class FileError extends NetError {
  override name = "FileError";
  constructor(readonly path: string, code: NetErrorCode, detail?: string, hint?: string) {
    super(code, withHint(netReason(code, detail), hint));
  }
}

function reasonWith(code: NetErrorCode, detail: string | undefined): string {
  if (isTlsCode(code)) {
    return tlsReason(code, code === "ETLS" ? undefined : detail, code === "ETLS" ? tlsDetail(detail) : undefined);
  }
  if (code === "ETIMEDOUT" && detail) return `${detail} (${code})`;
  return netReason(code, detail);
}

/** "permission denied (EACCES); run deno with --allow-net": the sentence stays the same everywhere. */
function withHint(reason: string, hint: string | undefined): string {
  return hint ? `${reason}; ${hint}` : reason;
}
