// A stale unix socket file makes Bun.listen fail with EADDRINUSE: remove it first.

import { lstatSync, unlinkSync } from "node:fs";
import { bunApi as bun } from "./bun-types.ts";
import { errCode } from "./errors.ts";

/** A leftover socket file from a crashed run blocks bind(); remove it unless someone listens on it. */
export async function removeStaleUnixSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // absent (or unreadable: let bind report it)
  }
  if (!isSocket) return; // not ours to delete; bind will report EADDRINUSE
  const refused = await bun().connect<undefined>({
    unix: path,
    socket: { open: (s) => s.terminate(), data: () => {}, connectError: () => {} },
  }).then(
    () => false,
    (err: unknown) => errCode(err) === "ECONNREFUSED",
  );
  if (refused) {
    try {
      unlinkSync(path);
    } catch {
      // gone already, or not ours: bind reports what remains
    }
  }
}
