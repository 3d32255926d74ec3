// The request/reply modes (echo, framed, app, connect): `connections` slots, each with one
// request in flight at a time. Closed loop (no rate): a slot sends its next request as soon
// as the reply to the last one is verified. Open loop (--rate): requests fall due on the
// RateSchedule whatever the server does; a due request goes to a free slot, or waits in
// the schedule's backlog, and its latency counts from when it was due.
//
// Each slot is the ConnHandler of its own connections, so the hot path allocates nothing
// per request beyond what the mode's exchange needs; one sweep timer finds replies that
// took longer than `waitMs` (counted as `timeout`).

import {
  type Conn,
  ConnectError,
  type ConnectOptions,
  ConnError,
  type ConnHandler,
  type Transport,
} from "../transport.ts";
import { isTlsCode } from "../tls.ts";
import type { Exchange } from "./exchange.ts";
import { VerifyError } from "./exchange.ts";
import type { RateSchedule } from "./rate-schedule.ts";
import type { BenchStats, ErrorKind } from "./stats.ts";

export interface RequestLoopOptions {
  transport: Transport;
  /** Address, connect timeout and TLS options of every connect (run.ts connectOptions). */
  connect: ConnectOptions;
  connections: number;
  connectTimeoutMs: number;
  /** A request unanswered this long is a `timeout` error. */
  waitMs: number;
  /** A new connection for every request (connect mode, app --new-conn). */
  perRequest: boolean;
  exchange: () => Exchange;
  stats: BenchStats;
  schedule?: RateSchedule;
}

/** Pause before a slot connects again after a refused connect, so a dead server is not hammered. */
const RECONNECT_BACKOFF_MS = 50;

/**
 * Map a connection failure to its error kind and message. A TLS failure is a `connect`
 * error wherever it surfaces: under TLS 1.3 the server judges our certificate after our
 * side of the handshake is done, so its refusal arrives on the open connection.
 */
export function classify(err: unknown): [ErrorKind, string] {
  if (err instanceof VerifyError) return ["verify", err.message];
  if (err instanceof ConnectError) return ["connect", err.message];
  if (err instanceof ConnError) {
    if (isTlsCode(err.code)) return ["connect", err.message];
    return [err.code === "ECONNRESET" ? "reset" : "other", err.message];
  }
  return ["other", err instanceof Error ? err.message : String(err)];
}

class Slot implements ConnHandler {
  conn: Conn | undefined;
  connecting = false;
  busy = false;
  /** When the current request was due (open loop) or sent (closed loop). */
  startedAt = 0;
  /** When its bytes were written (for the timeout). */
  sentAt = 0;
  readonly #loop: RequestLoop;
  readonly #exchange: Exchange;

  constructor(loop: RequestLoop, exchange: Exchange) {
    this.#loop = loop;
    this.#exchange = exchange;
  }

  /** Take a request that became due at `startedAt`. */
  issue(startedAt: number): void {
    this.busy = true;
    this.startedAt = startedAt;
    this.sentAt = performance.now();
    if (this.conn) this.#send(this.conn);
    else this.connect();
  }

  connect(): void {
    if (this.connecting) return;
    this.connecting = true;
    const o = this.#loop.options;
    o.transport.connect(o.connect, this).then(
      () => {
        this.connecting = false;
        // open() took the connection; a close since then has already failed the request
        if (this.busy && this.conn) this.#send(this.conn);
      },
      (err) => {
        this.connecting = false;
        if (this.busy) this.#fail(err, RECONNECT_BACKOFF_MS);
      },
    );
  }

  #send(conn: Conn): void {
    const bytes = this.#exchange.next();
    this.sentAt = performance.now();
    this.#loop.options.stats.bytes(bytes.length, 0);
    conn.write(bytes);
  }

  // The connection is ours from its first event: events can come before connect() resolves
  // (a server that closes at once), and must not be lost.
  open(conn: Conn): void {
    if (this.#loop.stopping && !this.busy) return conn.close();
    this.conn = conn;
    conn.setNoDelay(true);
  }

  data(conn: Conn, chunk: Uint8Array): void {
    if (conn !== this.conn) return;
    const stats = this.#loop.options.stats;
    stats.bytes(0, chunk.length);
    if (!this.busy) return this.#fail(new VerifyError(`${chunk.length} bytes arrived without a request`));
    let complete: boolean;
    try {
      complete = this.#exchange.feed(chunk);
    } catch (err) {
      return this.#fail(err);
    }
    if (!complete) return;
    const now = performance.now();
    stats.done(now, now - this.startedAt);
    this.busy = false;
    if (this.#loop.options.perRequest) this.#drop("graceful");
    this.#loop.free(this);
  }

  end(conn: Conn): void {
    if (conn !== this.conn) return;
    if (this.busy) return this.failAs("reset", "server closed the connection before replying");
    this.#drop("graceful"); // an idle connection the server let go of: the next request reconnects
  }

  close(conn: Conn, err?: Error): void {
    if (conn !== this.conn) return;
    this.conn = undefined;
    if (!this.busy) return;
    if (err) this.#fail(err);
    else this.failAs("reset", "connection closed before the reply");
  }

  /** The current request failed: count it, drop the connection, free the slot. */
  #fail(err: unknown, backoffMs = 0): void {
    const [kind, message] = classify(err);
    this.failAs(kind, message, backoffMs);
  }

  failAs(kind: ErrorKind, message: string, backoffMs = 0): void {
    this.#loop.options.stats.error(performance.now(), kind, message);
    this.busy = false;
    this.#drop("abort");
    if (backoffMs > 0 && !this.#loop.stopping) setTimeout(() => this.#loop.free(this), backoffMs);
    else this.#loop.free(this);
  }

  #drop(mode: "graceful" | "abort"): void {
    const c = this.conn;
    this.conn = undefined;
    c?.close(mode);
  }

  shut(): void {
    this.#drop("graceful");
  }
}

export class RequestLoop {
  readonly options: RequestLoopOptions;
  readonly #slots: Slot[];
  /** Slots waiting for a due request (open loop). */
  readonly #idle: Slot[] = [];
  stopping = false;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #tick: ReturnType<typeof setTimeout> | undefined;
  #drained: (() => void) | undefined;
  /** Requests that were due but never sent, when the run ended (open loop). */
  unsent = 0;

  constructor(options: RequestLoopOptions) {
    this.options = options;
    this.#slots = Array.from({ length: options.connections }, () => new Slot(this, options.exchange()));
  }

  /** Open every connection (persistent modes) before the clock starts; resolves when all tried. */
  async connectAll(): Promise<void> {
    if (this.options.perRequest) return;
    await Promise.all(
      this.#slots.map((s) =>
        this.options.transport.connect(this.options.connect, s).then(
          () => {}, // open() took it
          () => {}, // counted when a request finds the slot without a connection
        )
      ),
    );
  }

  /** Start sending. */
  start(): void {
    const sweepMs = Math.max(10, Math.min(250, Math.floor(this.options.waitMs / 4)));
    this.#sweep = setInterval(() => this.#checkTimeouts(), sweepMs);
    if (this.options.schedule) {
      this.#idle.push(...this.#slots);
      this.#onTick();
    } else {
      const now = performance.now();
      for (const s of this.#slots) s.issue(now);
    }
  }

  /** A slot finished its request (or failed it): give it the next one. */
  free(slot: Slot): void {
    if (this.stopping) {
      slot.shut();
      this.#checkDrained();
      return;
    }
    const schedule = this.options.schedule;
    if (!schedule) return slot.issue(performance.now());
    schedule.advance(performance.now());
    const due = schedule.take();
    if (due === undefined) this.#idle.push(slot);
    else slot.issue(due);
  }

  // Open loop: move due requests to free slots, then sleep until the next one is due.
  #onTick(): void {
    this.#tick = undefined;
    if (this.stopping) return;
    const schedule = this.options.schedule!;
    const now = performance.now();
    schedule.advance(now);
    while (this.#idle.length > 0 && schedule.backlog > 0) this.#idle.pop()!.issue(schedule.take()!);
    // Timers run late rather than early; due requests found late keep their intended time.
    this.#tick = setTimeout(() => this.#onTick(), Math.max(1, Math.floor(schedule.untilNext(performance.now()))));
  }

  #checkTimeouts(): void {
    const now = performance.now();
    const waitMs = this.options.waitMs;
    for (const s of this.#slots) {
      if (!s.busy) continue;
      if (!s.connecting && now - s.sentAt > waitMs) s.failAs("timeout", `no reply within ${waitMs} ms`);
      // a safety net: a connect the Transport did not time out is still bounded
      else if (s.connecting && now - s.sentAt > waitMs + this.options.connectTimeoutMs) {
        s.failAs("connect", "connecting took too long");
      }
    }
  }

  /** Stop sending; resolves when every request in flight has its reply or timed out. */
  stop(): Promise<void> {
    this.stopping = true;
    if (this.#tick !== undefined) clearTimeout(this.#tick);
    if (this.options.schedule) this.unsent = this.options.schedule.dropBacklog();
    for (const s of this.#idle) s.shut();
    this.#idle.length = 0;
    for (const s of this.#slots) if (!s.busy) s.shut();
    return new Promise((resolve) => {
      this.#drained = resolve;
      this.#checkDrained();
    });
  }

  #checkDrained(): void {
    if (!this.#drained || this.#slots.some((s) => s.busy)) return;
    clearInterval(this.#sweep);
    for (const s of this.#slots) s.shut();
    const done = this.#drained;
    this.#drained = undefined;
    done();
  }
}
