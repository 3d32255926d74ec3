// The TLS handshake deadline. A connection is counted (admission) and timed from its TCP
// accept (the adapters open it before the handshake), so a peer that never finishes its
// handshake, or trickles it, holds a slot only this long: the same sweep that runs the
// other deadlines cuts it (DESIGN.md §7, "limits before work"; docs/tls.md).
import type { Conn } from "../transport.ts";

/** True when `conn` is TLS, its handshake has not finished, and `handshakeMs` has passed since accept. */
export function handshakeOverdue(conn: Conn, openedAt: number, now: number, handshakeMs: number): boolean {
  return handshakeMs > 0 && conn.tls !== undefined && !conn.tls.established && now - openedAt > handshakeMs;
}
