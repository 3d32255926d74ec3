// node:net errors carry the OS error name in `code`; map them to the contract's codes
// (src/net-errors.ts builds every message). The one place Node's code is not the OS's:
// libuv turns bind()'s ENOENT for a unix socket into EACCES "for compatibility with
// Windows" (uv_pipe_bind), so `listen unix:/missing-dir/s.sock` says "permission denied".

import { statSync } from "node:fs";
import { dirname } from "node:path";
import { type Addr, ConnError, type NetErrorCode } from "../../src/transport.ts";
import { FileError, netCode } from "../../src/net-errors.ts";

type ErrnoError = Error & { code?: string };

/** The contract's code of a node:net (libuv) error. */
export function nodeNetCode(err: unknown): NetErrorCode {
  return netCode((err as ErrnoError | undefined)?.code);
}

/** Node's raw message, kept only as the clue of an EUNKNOWN. */
export function rawDetail(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The code of a failed listen. Node's EACCES for a unix path is really ENOENT when the
 * directory the socket would live in does not exist (stat says so; a real EACCES, e.g.
 * a directory we may not write to, stays EACCES).
 */
export function listenCode(addr: Addr, err: unknown): NetErrorCode {
  const code = nodeNetCode(err);
  if (code !== "EACCES" || addr.transport !== "unix") return code;
  try {
    statSync(dirname(addr.path));
    return code;
  } catch (statErr) {
    const c = (statErr as ErrnoError).code;
    return c === "ENOENT" || c === "ENOTDIR" ? c : code;
  }
}

/** A socket error as the ConnError that reaches close(conn, err). */
export function connError(err: unknown): ConnError {
  const code = nodeNetCode(err);
  return new ConnError(code, rawDetail(err));
}

/** A failed file read as the FileError Host.readFile rejects with. */
export function fileError(path: string, err: unknown): FileError {
  return new FileError(path, nodeNetCode(err), rawDetail(err));
}
