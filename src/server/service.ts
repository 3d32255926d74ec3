// The contract between the server core and a service (echo, discard, app, ...).
// The core owns sockets, deadlines, limits and backpressure; a service only turns
// bytes in into bytes out.

import type { Addr } from "../transport.ts";
import type { Logger } from "../log.ts";
import type { ServerOptions } from "./options.ts";

/** What a service session may do with its connection. */
export interface SessionContext {
  /** The connection's id, unique in the process (for logs and maps). */
  readonly id: number;
  /** The peer's address. */
  readonly remote: Addr;
  /** The server's options in effect (e.g. `maxFrame` for a codec's limit). */
  readonly options: Readonly<ServerOptions>;
  /** The server's logger. */
  readonly log: Logger;
  /** The transport's hint for this connection's ByteQueue (Transport.copyFramesBelow); absent: 0. */
  readonly copyFramesBelow?: number;
  /**
   * Queue bytes for the peer (never dropped). Returns false once the write buffer is
   * full: the core has paused reading; producers should wait for `drain`.
   */
  write(bytes: Uint8Array): boolean;
  /** Half-close: send FIN once everything queued is flushed; the peer may keep sending. */
  end(): void;
  /** Flush what is queued, then close. */
  close(): void;
  /**
   * The peer broke the protocol: log one line, count it, and close after flushing
   * whatever (e.g. an error reply) was queued before.
   */
  fail(message: string): void;
  /**
   * Stop reading from the peer (inbound backpressure), e.g. while a session has as much
   * work in flight as it will take. Composes with the core's own pause while the write
   * buffer is full: reading resumes only once neither wants it paused. Idempotent.
   */
  pause(): void;
  /** Undo `pause()`: read again, unless the write buffer still holds reading paused. */
  resume(): void;
}

/** One connection's worth of service state. */
export interface Session {
  /** Bytes from the peer; the session owns `chunk`. */
  data(chunk: Uint8Array): void;
  /** The peer half-closed. Usually: answer what is left, then ctx.end(). */
  end(): void;
  /** The write buffer drained after a write returned false (producers resume here). */
  drain?(): void;
  /** The connection is gone (any reason). */
  close?(): void;
  /**
   * True while a frame is partly received. The frame deadline runs while this holds,
   * and a draining server waits for it to become false.
   */
  midFrame?(): boolean;
  /**
   * Complete frames taken from the input so far (a running count). Each completed frame
   * restarts the frame deadline, so a client that pipelines frames is not cut merely
   * because every read happens to end inside the next frame.
   */
  framesDone?(): number;
  /** Replies written so far (a running count; the admin endpoint's frames sent). */
  framesSent?(): number;
}

/** A kind of connection: `open` makes one session per accepted connection. */
export interface Service {
  /** For logs (`listening ... service=NAME`). */
  readonly name: string;
  /** Called for each new connection, before any data. */
  open(ctx: SessionContext): Session;
}
