// Deno's errors name the failure by class (ConnectionRefused, ...) and mostly carry an
// OS-style `code`; codeOf() recovers that errno name (the adapter's own decisions use
// it), denoNetCode() maps it to the contract's code (src/net-errors.ts builds every
// message, so "Broken pipe (os error 32)" reads as on Node and Bun).

import { ConnError, type NetErrorCode } from "../../src/transport.ts";
import { FileError, netCode } from "../../src/net-errors.ts";

export type ErrnoError = Error & { code?: string };

// Deno error class names → errno-style codes, for errors that arrive without `code`.
const CODE_BY_NAME: Record<string, string> = {
  ConnectionRefused: "ECONNREFUSED",
  ConnectionReset: "ECONNRESET",
  ConnectionAborted: "ECONNABORTED",
  NotConnected: "ENOTCONN",
  AddrInUse: "EADDRINUSE",
  AddrNotAvailable: "EADDRNOTAVAIL",
  BrokenPipe: "EPIPE",
  TimedOut: "ETIMEDOUT",
  NotFound: "ENOENT",
  NotADirectory: "ENOTDIR",
  PermissionDenied: "EACCES",
  NotCapable: "EACCES",
  AlreadyExists: "EEXIST",
  InvalidData: "EINVAL",
  Interrupted: "EINTR",
  BadResource: "EBADF",
  WouldBlock: "EAGAIN",
};

export function toError(err: unknown): ErrnoError {
  return err instanceof Error ? err : new Error(String(err));
}

/** The OS-style code of a Deno error: its own `code`, else derived from the class or message. */
export function codeOf(err: unknown): string {
  const e = toError(err);
  if (typeof e.code === "string" && e.code !== "") return e.code;
  const byName = CODE_BY_NAME[e.name];
  if (byName !== undefined) return byName;
  // getaddrinfo's own words: a resolver that did not answer (EAI_AGAIN) is not an unknown host.
  if (/Temporary failure in name resolution/i.test(e.message)) return "EAI_AGAIN";
  if (/failed to lookup address|Name or service not known|No address associated/i.test(e.message)) return "ENOTFOUND";
  const m = /os error (\d+)/.exec(e.message);
  if (m) {
    const errno: Record<string, string> = {
      "24": "EMFILE",
      "23": "ENFILE",
      "103": "ECONNABORTED",
      "110": "ETIMEDOUT",
      "113": "EHOSTUNREACH",
      "101": "ENETUNREACH",
    };
    if (errno[m[1]!]) return errno[m[1]!]!;
  }
  return "EUNKNOWN";
}

/** The error with a `code` property set (Deno's errors mostly carry one already). */
export function withCode(err: unknown): ErrnoError {
  const e = toError(err);
  if (typeof e.code !== "string" || e.code === "") {
    try {
      Object.defineProperty(e, "code", { value: codeOf(e), configurable: true, writable: true });
    } catch {
      // frozen error object: leave it as it is
    }
  }
  return e;
}

/** The contract's code of a Deno error. */
export function denoNetCode(err: unknown): NetErrorCode {
  return netCode(codeOf(err));
}

/** Deno's raw message, kept only as the clue of an EUNKNOWN. */
export function rawDetail(err: unknown): string {
  return toError(err).message;
}

/**
 * What to do about a missing permission: Deno's NotCapable names the flag ("... run again
 * with the --allow-net flag"), which the contract's sentence alone ("permission denied")
 * would lose. Undefined for every other error.
 */
export function permissionHint(err: unknown): string | undefined {
  const e = toError(err);
  if (e.name !== "NotCapable") return undefined;
  const flag = /(--allow-[a-z-]+)/.exec(e.message)?.[1];
  return flag ? `run deno with ${flag}` : undefined;
}

/** A socket error as the ConnError that reaches close(conn, err) or onAcceptError. */
export function connError(err: unknown): ConnError {
  return new ConnError(denoNetCode(err), rawDetail(err));
}

/** A failed file read as the FileError Host.readFile rejects with. */
export function fileError(path: string, err: unknown): FileError {
  return new FileError(path, denoNetCode(err), rawDetail(err), permissionHint(err));
}
