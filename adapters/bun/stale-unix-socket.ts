// A stale unix socket file makes Bun.listen fail with EADDRINUSE: remove it first, by the
// shared policy (src/adapter-kit/stale-unix-socket.ts): only when a probe connect is refused.

import { lstatSync, readFileSync, unlinkSync } from "node:fs";
import { type Addr, ListenError } from "../../src/transport.ts";
import { judgeStaleUnixSocket } from "../../src/adapter-kit/stale-unix-socket.ts";
import { bunApi as bun } from "./bun-types.ts";
import { errCode, rawDetail } from "./errors.ts";

/** A leftover socket file from a crashed run blocks bind(); remove it unless someone may be listening on it. */
export async function removeStaleUnixSocket(addr: Addr & { transport: "unix" }): Promise<void> {
  const { path } = addr;
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // absent (or unreadable: let bind report it)
  }
  if (!isSocket) return; // not ours to delete; bind will report EADDRINUSE
  const probe = await bun().connect<undefined>({
    unix: path,
    socket: { open: (s) => s.terminate(), data: () => {}, connectError: () => {} },
  }).then(
    () => ({ code: "connected", detail: undefined }),
    (err: unknown) => ({ code: errCode(err), detail: rawDetail(err) }),
  );
  // Bun 1.4.5 reports a full backlog's EAGAIN as ECONNREFUSED: ask the kernel as well.
  if (probe.code === "ECONNREFUSED" && kernelSaysListening(path)) probe.code = "EAGAIN";
  const verdict = judgeStaleUnixSocket(probe.code);
  if (!verdict.unlink) throw new ListenError(addr, verdict.code, probe.detail);
  try {
    unlinkSync(path);
  } catch {
    // gone already, or not ours: bind reports what remains
  }
}

/** __SO_ACCEPTCON in /proc/net/unix's Flags column: the socket is listening. */
const SO_ACCEPTCON = 0x10000;

/**
 * Whether Linux lists a listening socket bound to `path` (/proc/net/unix; false where
 * there is none, e.g. macOS). The table shows the path as it was bound: a listener that
 * bound a relative path is not recognised.
 */
function kernelSaysListening(path: string): boolean {
  let table: string;
  try {
    table = readFileSync("/proc/net/unix", "utf8");
  } catch {
    return false;
  }
  for (const line of table.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/); // Num RefCount Protocol Flags Type St Inode Path
    if (f.length >= 8 && f.slice(7).join(" ") === path && (parseInt(f[3]!, 16) & SO_ACCEPTCON) !== 0) return true;
  }
  return false;
}
