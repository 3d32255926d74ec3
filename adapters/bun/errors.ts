// Bun's socket errors carry the OS error name in `code` (or nothing): errCode() recovers
// it (the adapter's own decisions use it), bunNetCode() maps it to the contract's code.
// src/net-errors.ts builds every message, so Bun's "Failed to listen at ..." and
// "EPIPE: broken pipe, read" read as on Node and Deno.

import type { BunSysError } from "./bun-types.ts";
import { ConnError, type NetErrorCode } from "../../src/transport.ts";
import { FileError, netCode } from "../../src/net-errors.ts";

/** The OS error name of a Bun error, or EUNKNOWN. */
export function errCode(err: unknown): string {
  const code = (err as BunSysError | undefined)?.code;
  return typeof code === "string" && code !== "" ? code : "EUNKNOWN";
}

/** The contract's code of a Bun error. */
export function bunNetCode(err: unknown): NetErrorCode {
  return netCode(errCode(err));
}

/** Bun's raw message, kept only as the clue of an EUNKNOWN. */
export function rawDetail(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A socket error as the ConnError that reaches close(conn, err) or onAcceptError. */
export function connError(err: unknown): ConnError {
  return new ConnError(bunNetCode(err), rawDetail(err));
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** A failed file read as the FileError Host.readFile rejects with. */
export function fileError(path: string, err: unknown): FileError {
  return new FileError(path, bunNetCode(err), rawDetail(err));
}
