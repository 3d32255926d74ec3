// The conformance checks the in-memory transport cannot run (memory.test.ts, self-check.test.ts).

/** Checks that need the OS itself, with why they cannot apply to an in-memory network. */
export const NOT_IN_MEMORY: Record<string, string> = {
  "serves over a unix socket, replacing a stale socket file": "no socket files (a crashed run leaves none)",
  "does not replace a live unix socket whose backlog is full (ListenError EADDRINUSE)":
    "no socket files, and its live listener is an OS process (python)",
  "writing to a peer that has reset ends in close(conn, err) with an error, and write() never throws":
    "its second peer is an OS process (python) sending an RST",
  "writing to a peer that left ends in close(conn, err) with ECONNRESET: connection reset by peer":
    "its peer is an OS process (python)",
  "a connect to a unix socket in a missing directory reads: no such file or directory (ENOENT)":
    "no file system: a unix path is only a name",
  "listening on a unix socket in a missing directory reads: no such file or directory (ENOENT)":
    "no file system: a unix path is only a name",
  "a connect that times out reads: timed out after N ms (ETIMEDOUT)":
    "nothing is ever slow: a connect succeeds or is refused at once",
};
