// The one policy every adapter applies to a unix socket file that already exists when it
// is asked to listen there: probe it with a connect, and judge the probe here. Only a
// refused connect proves nobody listens (a crashed run's leftover); anything else, a
// full backlog's EAGAIN included, may be a live server whose file we must not delete.

import { isNetErrorCode, type NetErrorCode } from "../net-errors.ts";

/** What to do with the file: remove it and listen, or fail the listen with this code. */
export type StaleSocketVerdict = { unlink: true } | { unlink: false; code: NetErrorCode };

/**
 * Judges a probe connect to an existing unix socket file. `probe` is "connected", or the
 * errno-style name of the connect's failure as the runtime reported it (ECONNREFUSED,
 * EAGAIN, EACCES, ...). Unlink only on ECONNREFUSED; a listener that answered or whose
 * backlog is full (EAGAIN/EWOULDBLOCK) is in use (EADDRINUSE); other failures keep their
 * code (EUNKNOWN when it is not one of the contract's).
 */
export function judgeStaleUnixSocket(probe: string): StaleSocketVerdict {
  if (probe === "ECONNREFUSED") return { unlink: true };
  if (probe === "connected" || probe === "EAGAIN" || probe === "EWOULDBLOCK") {
    return { unlink: false, code: "EADDRINUSE" };
  }
  return { unlink: false, code: isNetErrorCode(probe) ? probe : "EUNKNOWN" };
}
