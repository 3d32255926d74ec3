// The TCP socket under a client TLSSocket. Given a connected socket, node:tls takes over
// its handle, and then (Node 20) loses the error of a write that fails there: when a write
// is the first to meet the peer's reset, the kernel hands the error to that write, the read
// after it sees a clean end, and a refused or cut connection passes for a finished one (a
// TLS 1.3 server refusing our client certificate after our handshake is done, say).
// Handed over before it connects, the socket is driven as a JS stream instead: its errors
// stay its own. A failed write first passes node:tls what the kernel still holds (the
// server's alert saying why it hung up), then fails, so the alert is reported, not the reset.

import * as net from "node:net";
import { readSync } from "node:fs";

type WriteCallback = (err?: Error | null) => void;

export class TlsCarrier extends net.Socket {
  /** A write failed: its error, due next, ends the stream (not the end of input it left behind). */
  #writeFailed = false;

  constructor() {
    super({ allowHalfOpen: true });
    // node:tls destroys the TLS socket when this one closes, dropping what it has decrypted
    // but not yet handed over (a paused reader's backlog). net.Socket forces autoDestroy on,
    // which closes this socket once both directions ended: the TLS socket closes it instead
    // (its own close destroys this one), after its reader has had everything.
    const states = this as unknown as {
      _readableState: { autoDestroy: boolean };
      _writableState: { autoDestroy: boolean };
    };
    states._readableState.autoDestroy = false;
    states._writableState.autoDestroy = false;
  }

  // The write that took the reset's error leaves the read a plain end of input: hide that
  // end, or the TLS socket would close cleanly before the write's error arrives.
  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null && this.#writeFailed) return false;
    return super.push(chunk, encoding);
  }

  override _write(chunk: unknown, encoding: BufferEncoding, cb: WriteCallback): void {
    super._write(chunk, encoding, this.#afterWrite(cb));
  }

  override _writev(chunks: Array<{ chunk: unknown; encoding: BufferEncoding }>, cb: WriteCallback): void {
    super._writev!(chunks, this.#afterWrite(cb));
  }

  #afterWrite(cb: WriteCallback): WriteCallback {
    return (err) => {
      if (!err) return cb(err);
      this.#writeFailed = true;
      this.#salvage();
      // The failure (and the socket's destruction) waits until node:tls has read what was
      // salvaged: it reads on 'readable', which the push above schedules ahead of this.
      setImmediate(() => cb(err));
    };
  }

  /** Read what the kernel still holds for us (non-blocking; the descriptor is open until cb). */
  #salvage(): void {
    const fd = (this as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (fd === undefined || fd < 0 || this.readableEnded || this.destroyed) return;
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (let i = 0; i < 16; i++) { // bounded: a refusal is a few hundred bytes at most
      let n: number;
      try {
        n = readSync(fd, buf); // EAGAIN when nothing is left
      } catch {
        return;
      }
      if (n <= 0) return;
      this.push(Buffer.from(buf.subarray(0, n))); // a copy: buf is reused
    }
  }
}
