// Bun's socket errors carry the OS error name in `code` (or nothing): map them to the
// codes and messages the contract's ConnectError / ListenError report.

import type { BunSysError } from "./bun-types.ts";

const ERRNO_TEXT: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  ENOENT: "no such file or directory",
  ENOTFOUND: "host not found",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EMFILE: "too many open files",
  ENFILE: "too many open files in system",
  EINVAL: "invalid argument",
};

/** The OS error name of a Bun error, or EUNKNOWN. */
export function errCode(err: unknown): string {
  const code = (err as BunSysError | undefined)?.code;
  return typeof code === "string" && code !== "" ? code : "EUNKNOWN";
}

/** A human-readable reason with the code, e.g. "connection refused (ECONNREFUSED)". */
export function describe(err: unknown): string {
  const code = errCode(err);
  const text = ERRNO_TEXT[code] ?? (err instanceof Error ? err.message : String(err));
  return code === "EUNKNOWN" ? text : `${text} (${code})`;
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
