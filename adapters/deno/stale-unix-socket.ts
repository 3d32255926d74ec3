// A stale unix socket file (left by a crashed run) makes Deno.listen fail: remove it first.

import { deno } from "./deno-types.ts";
import { codeOf } from "./errors.ts";

/** A leftover socket file from a crashed run blocks bind(); remove it unless someone listens on it. */
export async function removeStaleUnixSocket(path: string): Promise<void> {
  const D = deno();
  try {
    if (D.lstatSync(path).isSocket !== true) return; // not ours to delete; bind reports EADDRINUSE
  } catch {
    return; // does not exist (or cannot be inspected): let listen report it
  }
  try {
    const probe = await D.connect({ transport: "unix", path });
    probe.close();
    return; // someone is listening: listen() will fail with EADDRINUSE
  } catch (err) {
    // ECONNREFUSED: nobody listens. (Other errors, e.g. EACCES, let listen() speak.)
    if (codeOf(err) !== "ECONNREFUSED") return;
  }
  try {
    D.removeSync(path);
  } catch {
    // raced with someone else removing it
  }
}
