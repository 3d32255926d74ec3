// One accepted connection from open to close: feeds the service session, applies
// backpressure, and keeps the timestamps the server's deadline sweep checks.

import type { Conn } from "../transport.ts";
import { formatAddr } from "../addr.ts";
import type { LogFields, Logger } from "../log.ts";
import type { Session, SessionContext } from "./service.ts";
import type { Service } from "./service.ts";
import type { CloseCounters, PolicyReason } from "./close-reasons.ts";
import type { ServerOptions } from "./options.ts";
import type { RateLimitedLog } from "./rate-limited-log.ts";
import { SendStall } from "./send-stall.ts";
import type { ConnectionCounts, ServerMetrics } from "./metrics.ts";
import { handshakeOverdue } from "./handshake-deadline.ts";

/**
 * While lingering (our FIN sent, waiting for the peer's), input is read and dropped so
 * that closing does not reset the connection under a reply in flight. A well-behaved
 * peer sends little more; past this many bytes it is cut instead.
 */
export const LINGER_DISCARD_BYTES = 256 * 1024;

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly options: Readonly<ServerOptions>;
  readonly log: Logger;
  readonly counters: CloseCounters;
  readonly draining: boolean;
  /** Set only when debug lines are on: one line per connection opened and closed goes here. */
  readonly connLines?: RateLimitedLog;
  /** Where a closed connection's counts go (the admin endpoint's metrics). */
  readonly metrics?: ServerMetrics;
  /** The transport's decoder hint, handed to each session (Transport.copyFramesBelow). */
  readonly copyFramesBelow?: number;
}

/** Keepalive is armed by the first sweep after a connection has lived this long (or less: #armKeepAlive). */
const KEEPALIVE_ARM_AFTER_MS = 1000;

/** Why a connection ended, as the debug `conn-close` line says it (policy reasons besides these). */
export type EndReason = PolicyReason | "peer-closed" | "peer-reset" | "error" | "server-closed" | "shutdown";

/**
 * Resets and broken pipes are what peers do; they are not worth a warning line each. The
 * adapters report every one of them as ECONNRESET (the Transport contract, pinned by the
 * conformance suite), so the code alone tells.
 */
export function isPeerReset(err: Error): boolean {
  return (err as { code?: string }).code === "ECONNRESET";
}

export class ServerConnection {
  #peer: string | undefined;
  readonly session: Session;
  #lastActivity: number;
  // The byte counts the last sweep saw: the sweep, not every read and write, turns progress
  // into a time (no clock read per event; the idle deadline is as coarse as the sweep anyway).
  #readSeen = 0;
  #writtenSeen = 0;
  /** When the current partial frame began; 0 while no frame is partly received. */
  #frameStartedAt = 0;
  #framesSeen = 0;
  /** Bytes handed to conn.write() in all, to tell kernel progress from `queued`. */
  #written = 0;
  #lastSent = 0;
  /** How long the oldest byte queued for the peer has waited (the write-timeout clock). */
  readonly #stall = new SendStall();
  /** Set once we sent (or queued) our FIN; the linger deadline runs from when it is flushed. */
  #finQueued = false;
  #lingerFrom = 0;
  #peerFin = false;
  #pausedForWrite = false;
  /** The session asked to stop reading (ctx.pause), e.g. at its in-flight bound. */
  #pausedBySession = false;
  /** Whether conn.pause() is in effect: reading is paused while either side wants it. */
  #readingPaused = false;
  /** Finishing: no more input goes to the service; we flush, FIN, and wait for the peer's FIN. */
  #finishing = false;
  #discarded = 0;
  // Plain counters for the close lines: nothing per byte beyond adding lengths.
  readonly #openedAt: number;
  #read = 0;
  /** Bytes still queued when an abort dropped them: not sent. */
  #dropped = 0;
  #reason: EndReason | undefined;
  /** TCP keepalive is on (or not wanted): the sweep has nothing more to arm. */
  #keepAliveArmed: boolean;

  constructor(
    readonly conn: Conn,
    service: Service,
    private readonly host: ConnectionHost,
    now: number,
    /** The per-source key admission counted this connection under (source.ts). */
    readonly source: string | undefined,
  ) {
    this.#lastActivity = now;
    this.#openedAt = now;
    host.connLines?.write("debug", "conn-open", { peer: this.peer, local: formatAddr(conn.local), conn: conn.id }, now);
    const ctx: SessionContext = {
      id: conn.id,
      remote: conn.remote,
      options: host.options,
      log: host.log,
      copyFramesBelow: host.copyFramesBelow,
      write: (bytes) => this.write(bytes),
      end: () => this.end(),
      close: () => this.finish("server-closed"),
      fail: (message) => this.fail(message),
      pause: () => this.#setSessionPause(true),
      resume: () => this.#setSessionPause(false),
    };
    // TCP keepalive is armed by the sweep once the connection has lived a moment (see
    // #armKeepAlive): most connections are over long before a probe could ever be sent.
    this.#keepAliveArmed = host.options.keepAliveMs <= 0 || conn.remote.transport !== "tcp";
    this.session = service.open(ctx);
  }

  write(bytes: Uint8Array): boolean {
    if (this.#finQueued || this.conn.closed) return false;
    this.#written += bytes.length;
    const ok = this.conn.write(bytes);
    if (!ok && !this.#pausedForWrite) {
      // Inbound backpressure: stop reading from a peer that is not reading our replies.
      this.#pausedForWrite = true;
      this.#applyPause();
    }
    return ok;
  }

  end(): void {
    if (this.#finQueued) return;
    this.#finQueued = true;
    this.conn.end();
    // No drain follows an end() (the Transport contract): stop waiting for one, or a read
    // paused for a full write buffer would never see the peer's FIN.
    if (this.#pausedForWrite) {
      this.#pausedForWrite = false;
      this.#applyPause();
    }
  }

  /**
   * Lingering close: stop feeding the service, flush what is queued, send FIN, and read
   * (discarding) until the peer's FIN or the linger deadline. Closing outright with
   * unread input would make the kernel send RST and could destroy a reply in flight.
   */
  finish(reason: EndReason = "server-closed"): void {
    if (this.#finishing) return;
    this.#finishing = true;
    this.#reason ??= reason;
    this.#pausedForWrite = false;
    this.#applyPause(); // keep reading so the peer's FIN can arrive
    this.end();
    if (this.#peerFin) this.conn.close();
  }

  fail(message: string): void {
    this.host.counters.record("protocol-error", {
      peer: this.peer,
      conn: this.conn.id,
      error: message,
      ...this.#stats(Date.now()),
    });
    this.finish("protocol-error");
  }

  /**
   * Close now because a limit or deadline says so. A graceful close is only tried with
   * nothing queued: a graceful close waits for the queue to flush, which a peer that
   * does not read would postpone forever.
   */
  closeByPolicy(reason: PolicyReason, abort: boolean): void {
    if (this.conn.closed) return;
    this.#reason = reason; // what really closes the socket, whatever began the close before
    this.host.counters.record(reason, { peer: this.peer, conn: this.conn.id, ...this.#stats(Date.now()) });
    this.#dropped = this.conn.queued;
    this.conn.close(abort || this.#dropped > 0 ? "abort" : "graceful");
  }

  /** What the close lines report: duration, bytes each way (out = taken by the kernel), frames. */
  #stats(now: number): LogFields {
    return {
      duration_ms: now - this.#openedAt,
      bytes_in: this.#read,
      bytes_out: this.#written - Math.max(this.#dropped, this.conn.queued),
      frames: this.session.framesDone?.(),
    };
  }

  onData(chunk: Uint8Array): void {
    this.#read += chunk.length;
    if (this.#finishing) {
      // Discarding until the peer's FIN; a peer that keeps streaming after our FIN
      // would have us read at full speed for the whole linger: cut it after a budget.
      this.#discarded += chunk.length;
      if (this.#discarded > LINGER_DISCARD_BYTES) this.closeByPolicy("linger-discard", true);
      return;
    }
    this.session.data(chunk);
    this.#afterInput();
  }

  onEnd(): void {
    this.#peerFin = true;
    if (this.#finishing) {
      this.conn.close();
      return;
    }
    this.session.end();
    this.#afterInput();
  }

  onDrain(): void {
    this.#lastActivity = Date.now();
    if (this.#pausedForWrite) {
      this.#pausedForWrite = false;
      this.#applyPause();
    }
    if (!this.#finishing) this.session.drain?.();
    if (this.host.draining) this.drainIfSettled();
  }

  /** The peer's address as logs print it: formatted on first use (logs, status), not per accept. */
  get peer(): string {
    return this.#peer ??= formatAddr(this.conn.remote);
  }

  /** When the connection was accepted (ms since the epoch). */
  get openedAt(): number {
    return this.#openedAt;
  }

  /** Running counts (for metrics and the status page): bytes read, bytes taken by the kernel, frames. */
  counts(): ConnectionCounts {
    return {
      bytesIn: this.#read,
      bytesOut: this.#written - Math.max(this.#dropped, this.conn.queued),
      framesIn: this.session.framesDone?.() ?? 0,
      framesOut: this.session.framesSent?.() ?? 0,
    };
  }

  /** The transport's close event (`err`: how it failed, if it did). */
  onClose(err?: Error, at?: number): void {
    this.session.close?.();
    const { metrics, connLines: lines } = this.host;
    if (!metrics && !lines) return; // nobody counts or logs closes: no clock read either
    const now = at ?? Date.now();
    const reason = this.#reason ?? (err ? (isPeerReset(err) ? "peer-reset" : "error") : "peer-closed");
    metrics?.connectionClosed(reason, (now - this.#openedAt) / 1000, this.counts());
    if (lines) {
      const error = err && !isPeerReset(err) ? err.message : undefined;
      lines.write(
        "debug",
        "conn-close",
        { peer: this.peer, conn: this.conn.id, ...this.#stats(now), reason, error },
        now,
      );
    }
  }

  /** Server shutdown: close now if nothing is in flight, else when it settles. */
  drainIfSettled(): void {
    if (this.#finishing || this.conn.closed) return;
    if (this.session.midFrame?.()) return;
    if (this.conn.queued > 0) return;
    this.finish("shutdown");
  }

  /** Apply the deadlines; called by the server's sweep timer. */
  checkDeadlines(now: number): void {
    if (this.conn.closed) return;
    const o = this.host.options;
    if (handshakeOverdue(this.conn, this.#openedAt, now, o.handshakeMs)) {
      return this.closeByPolicy("handshake-timeout", true);
    }
    if (!this.#keepAliveArmed) this.#armKeepAlive(now, o.keepAliveMs);
    if (this.#read !== this.#readSeen || this.#written !== this.#writtenSeen) {
      this.#lastActivity = now; // bytes moved since the last sweep
      this.#readSeen = this.#read;
      this.#writtenSeen = this.#written;
    }
    const queued = this.conn.queued;
    const sent = this.#written - queued;
    if (sent > this.#lastSent) {
      this.#lastActivity = now;
      this.#lastSent = sent;
    }
    if (o.writeMs > 0 && this.#stall.sample(this.#written, sent, now) > o.writeMs) {
      return this.closeByPolicy("write-timeout", true);
    }
    // A reply computed asynchronously can settle a frame without any new input, and a
    // session working through input it buffered while paused completes frames without
    // any either: progress restarts the clock here too.
    if (this.#frameStartedAt > 0 && !this.session.midFrame?.()) this.#frameStartedAt = 0;
    const frames = this.session.framesDone?.() ?? 0;
    if (frames !== this.#framesSeen) {
      this.#framesSeen = frames;
      if (this.#frameStartedAt > 0) this.#frameStartedAt = now;
    }
    if (o.frameMs > 0 && this.#frameStartedAt > 0 && now - this.#frameStartedAt > o.frameMs) {
      return this.closeByPolicy("frame-timeout", true);
    }
    if (this.#finQueued && !this.#peerFin && queued === 0) {
      if (this.#lingerFrom === 0) this.#lingerFrom = now;
      if (o.lingerMs > 0 && now - this.#lingerFrom > o.lingerMs) return this.closeByPolicy("linger-timeout", true);
    }
    if (o.idleMs > 0 && now - this.#lastActivity > o.idleMs) {
      return this.closeByPolicy("idle-timeout", false);
    }
  }

  /**
   * Turn TCP keepalive on once the connection has lived a tenth of the keepalive time (at
   * most a second): setting it costs system calls on every accept (6–8% of the CPU of a
   * short connection on Node and Bun, measured), and a connection that ends sooner never
   * goes silent long enough for a probe anyway. The first probe comes that much later.
   */
  #armKeepAlive(now: number, keepAliveMs: number): void {
    if (now - this.#openedAt < Math.min(KEEPALIVE_ARM_AFTER_MS, keepAliveMs / 10)) return;
    this.#keepAliveArmed = true;
    this.conn.setKeepAlive(true, keepAliveMs);
  }

  #setSessionPause(paused: boolean): void {
    this.#pausedBySession = paused;
    this.#applyPause();
  }

  /** Pause or resume reading so that it is paused exactly while either side wants it (never while finishing). */
  #applyPause(): void {
    const want = !this.#finishing && (this.#pausedForWrite || this.#pausedBySession);
    if (want === this.#readingPaused || this.conn.closed) return;
    this.#readingPaused = want;
    if (want) this.conn.pause();
    else this.conn.resume();
  }

  #afterInput(): void {
    // A chunk can complete frames and start the next one: then the clock restarts,
    // or a client pipelining frames split anywhere would be cut as a slowloris.
    // The clock is read only when a frame starts (not for input that holds whole frames).
    const frames = this.session.framesDone?.() ?? 0;
    if (this.session.midFrame?.()) {
      if (this.#frameStartedAt === 0 || frames !== this.#framesSeen) this.#frameStartedAt = Date.now();
    } else {
      this.#frameStartedAt = 0;
    }
    this.#framesSeen = frames;
    if (this.host.draining) this.drainIfSettled();
  }
}
