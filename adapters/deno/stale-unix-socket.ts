// A stale unix socket file (left by a crashed run) makes Deno.listen fail: remove it first,
// by the shared policy (src/adapter-kit/stale-unix-socket.ts): only when a probe connect is refused.

import { type Addr, ListenError } from "../../src/transport.ts";
import { judgeStaleUnixSocket } from "../../src/adapter-kit/stale-unix-socket.ts";
import { deno } from "./deno-types.ts";
import { codeOf, rawDetail } from "./errors.ts";

/** A leftover socket file from a crashed run blocks bind(); remove it unless someone may be listening on it. */
export async function removeStaleUnixSocket(addr: Addr & { transport: "unix" }): Promise<void> {
  const D = deno();
  const { path } = addr;
  try {
    if (D.lstatSync(path).isSocket !== true) return; // not ours to delete; bind reports EADDRINUSE
  } catch {
    return; // does not exist (or cannot be inspected): let listen report it
  }
  let probe: string;
  let detail: string | undefined;
  try {
    const conn = await D.connect({ transport: "unix", path });
    conn.close();
    probe = "connected";
  } catch (err) {
    probe = codeOf(err);
    detail = rawDetail(err);
  }
  const verdict = judgeStaleUnixSocket(probe);
  if (!verdict.unlink) throw new ListenError(addr, verdict.code, detail);
  try {
    D.removeSync(path);
  } catch {
    // raced with someone else removing it
  }
}
