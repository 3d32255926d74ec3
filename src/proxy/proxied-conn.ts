// A Conn whose `remote` is the client named by the PROXY header: the one view of the
// connection the service session, the logs and the per-source limits get.

import type { Addr, Conn } from "../transport.ts";

export class ProxiedConn implements Conn {
  constructor(
    /** The socket itself (its `remote` is the balancer). */
    readonly socket: Conn,
    readonly remote: Addr,
  ) {}
  get id(): number {
    return this.socket.id;
  }
  get local(): Addr {
    return this.socket.local;
  }
  get queued(): number {
    return this.socket.queued;
  }
  get closed(): boolean {
    return this.socket.closed;
  }
  write(bytes: Uint8Array): boolean {
    return this.socket.write(bytes);
  }
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }
  end(): void {
    this.socket.end();
  }
  close(mode?: "graceful" | "abort"): void {
    this.socket.close(mode);
  }
  setNoDelay(on: boolean): void {
    this.socket.setNoDelay(on);
  }
  setKeepAlive(on: boolean, initialDelayMs?: number): void {
    this.socket.setKeepAlive(on, initialDelayMs);
  }
}
