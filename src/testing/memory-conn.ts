// One end of an in-memory connection (see memory-transport.ts). Each end has an outbound
// queue (what "the kernel" has not taken: `queued`) and an inbound buffer of bounded size
// (the peer's "socket buffer"); bytes move from one to the other on a timer tick, so a
// reader that pauses makes the writer's queue grow and write() return false, as on TCP.

import { type Addr, allocateConnId, type Conn, ConnError, type ConnHandler } from "../transport.ts";

/** Bytes an end holds unread before its peer's bytes stay queued (a socket's receive buffer). */
export const MEMORY_SOCKET_BUFFER = 256 * 1024;

export class MemoryConn implements Conn {
  readonly id = allocateConnId();
  peer!: MemoryConn;

  // Outbound, not yet moved to the peer.
  #queue: Uint8Array[] = [];
  #queued = 0;
  #needDrain = false;
  /** end() or close() was called: no more writes. */
  #writeShut = false;
  /** Our FIN is in the peer's inbound buffer. */
  #finSent = false;
  /** close() was called: the handler gets nothing but its close. */
  #localClose = false;
  #closeWhenFlushed = false;

  // Inbound.
  #inbox: Uint8Array[] = [];
  #inboxBytes = 0;
  #inboxFin = false;
  #paused = false;
  #endReported = false;

  #closed = false;
  #closeReported = false;
  #error: Error | undefined;
  /** The peer released its socket: what we send now is answered by a reset. */
  #peerGone = false;
  #resetPending = false;
  #scheduled = false;

  constructor(
    readonly local: Addr,
    readonly remote: Addr,
    private readonly handler: ConnHandler,
    private readonly hwm: number,
  ) {}

  get queued(): number {
    return this.#queued;
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(bytes: Uint8Array): boolean {
    if (this.#writeShut || this.#closed) return false;
    if (bytes.length > 0) {
      this.#queue.push(bytes);
      this.#queued += bytes.length;
      this.schedule();
    }
    if (this.#queued < this.hwm) return true;
    this.#needDrain = true;
    this.schedule(); // highWaterMark 0: the drain follows the (empty) flush
    return false;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.schedule();
  }

  end(): void {
    if (this.#writeShut || this.#closed) return;
    this.#writeShut = true;
    this.schedule();
  }

  close(mode: "graceful" | "abort" = "graceful"): void {
    if (this.#closed) return;
    if (mode === "abort") return this.#abort();
    this.#writeShut = true;
    this.#localClose = true;
    this.#closeWhenFlushed = true;
    this.schedule();
  }

  setNoDelay(_on: boolean): void {}
  setKeepAlive(_on: boolean, _initialDelayMs?: number): void {}

  /** Opened: the handler's open event (a throwing handler aborts this end). */
  open(): void {
    if (this.handler.open) this.#call(() => this.handler.open!(this));
  }

  /** Run a step on a later tick (never inside the caller's own call). */
  schedule(): void {
    if (this.#scheduled || this.#closeReported) return;
    this.#scheduled = true;
    setTimeout(() => this.#tick(), 0);
  }

  /** The peer released its socket (after its FIN) or reset it. */
  peerGone(reset: boolean): void {
    this.#peerGone = true;
    if (reset) this.#resetPending = true;
    this.schedule();
  }

  /** Room left in our inbound buffer, for the peer's bytes. */
  room(): number {
    return this.#closed ? Infinity : MEMORY_SOCKET_BUFFER - this.#inboxBytes;
  }

  /** The peer's bytes (a copy: the receiver owns its chunk), or its FIN. */
  receive(chunk: Uint8Array | "fin"): void {
    if (this.#closed) return;
    if (chunk === "fin") this.#inboxFin = true;
    else {
      this.#inbox.push(chunk);
      this.#inboxBytes += chunk.length;
    }
    this.schedule();
  }

  #tick(): void {
    this.#scheduled = false;
    if (this.#closed) return this.#reportClose();
    if (this.#resetPending || (this.#peerGone && this.#queued > 0)) return this.#reset();
    this.#deliver();
    if (!this.#closed) this.#send();
    if (!this.#closed && this.#endReported && this.#finSent && this.#queued === 0) this.#release();
    if (this.#closed) this.#reportClose();
  }

  /** Hand the peer what its buffer has room for; then our FIN, drain, or release. */
  #send(): void {
    const peer = this.peer;
    let moved = false;
    while (this.#queue.length > 0 && peer.room() > 0) {
      const head = this.#queue[0]!;
      const n = Math.min(head.length, peer.room());
      peer.receive(head.slice(0, n));
      moved = true;
      this.#queued -= n;
      if (n === head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(n);
    }
    if (moved) peer.schedule();
    if (this.#queued > 0) return; // the peer's receive() schedules us... when it reads: see #deliver
    if (this.#writeShut && !this.#finSent) {
      this.#finSent = true;
      peer.receive("fin");
    }
    if (this.#closeWhenFlushed) return this.#release();
    if (this.#needDrain && !this.#writeShut) {
      this.#needDrain = false;
      if (this.handler.drain) this.#call(() => this.handler.drain!(this));
    }
  }

  /** Hand the handler what arrived, in order; the FIN only after every byte, never while paused. */
  #deliver(): void {
    let freed = false;
    while (this.#inbox.length > 0 && !this.#paused && !this.#closed) {
      const chunk = this.#inbox.shift()!;
      this.#inboxBytes -= chunk.length;
      freed = true;
      if (!this.#localClose) this.#call(() => this.handler.data(this, chunk));
    }
    if (freed) this.peer.schedule(); // room again for what the peer has queued
    if (this.#inbox.length > 0 || this.#paused || !this.#inboxFin || this.#endReported || this.#closed) return;
    this.#endReported = true;
    if (this.#localClose) return;
    if (this.handler.end) this.#call(() => this.handler.end!(this));
    else this.end();
  }

  /** Both FINs are through, or a graceful close flushed: the socket is released. */
  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queued = 0;
    this.peer.peerGone(false);
  }

  #abort(): void {
    if (this.#closed) return;
    this.#localClose = true;
    this.#writeShut = true;
    this.#closed = true;
    this.#queue = [];
    this.#queued = 0;
    this.#inbox = [];
    this.peer.peerGone(true);
    this.schedule();
  }

  /** The peer reset the connection (or we wrote to a socket it had released). */
  #reset(): void {
    this.#error ??= new ConnError("ECONNRESET");
    this.#closed = true;
    this.#queue = [];
    this.#queued = 0;
    this.#inbox = [];
    if (!this.#peerGone) this.peer.peerGone(true);
    this.#reportClose();
  }

  #reportClose(): void {
    if (this.#closeReported) return;
    this.#closeReported = true;
    try {
      this.handler.close?.(this, this.#error);
    } catch {
      // close is the last event; nothing is left to abort.
    }
  }

  /** Run a handler callback; a throwing handler aborts its own connection only. */
  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#error ??= err instanceof Error ? err : new Error(String(err));
      this.#abort();
    }
  }
}
