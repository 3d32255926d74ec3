// The server core: accepts through a Transport, admits or refuses each connection,
// runs one deadline sweep for all connections, and drains gracefully on shutdown.

import type { Addr, Conn, ConnHandler, Listener, Transport } from "../transport.ts";
import { formatAddr } from "../addr.ts";
import { type Logger, silentLogger } from "../log.ts";
import type { Service } from "./service.ts";
import { Admission } from "./admission.ts";
import { CloseCounters } from "./close-reasons.ts";
import type { ConnectionView, ServerMetrics } from "./metrics.ts";
import { type ConnectionHost, isPeerReset, ServerConnection } from "./connection.ts";
import { resolveOptions, type ServerOptions } from "./options.ts";
import { RateLimitedLog } from "./rate-limited-log.ts";
import { PrefaceStage, type ProxyProtocolConfig } from "../proxy/preface.ts";
import type { TlsServerOptions } from "../tls.ts";

/** After the drain bound cut every connection, how long their close events may take before shutdown stops waiting. */
const ABORT_GRACE_MS = 2000;

/** Budget of the debug conn-open/conn-close lines, so that a connection flood cannot flood the log. */
export const CONN_LINES_PER_SECOND = 1000;

/** What a Server is made of; only `transport` and `service` are required. */
export interface ServerConfig {
  /** The sockets to listen through (one runtime's adapter, e.g. `nodeTransport`). */
  transport: Transport;
  /** What every accepted connection runs. */
  service: Service;
  /**
   * Limits and deadlines; each field left out (or `undefined`) keeps its default. Every
   * value is checked: a RangeError names the option (`maxConns must be a whole number >= 1, got NaN`).
   */
  options?: Partial<ServerOptions>;
  /** Where events are logged (limits acting, errors). Default: nowhere (`silentLogger`). */
  log?: Logger;
  /** Descriptors the server may use (the open-file limit less those open), for the default maxConns. */
  openFileLimit?: number;
  /** Budget of the debug connection lines (default CONN_LINES_PER_SECOND). */
  connLinesPerSecond?: number;
  /**
   * Require a PROXY protocol v1/v2 header on every connection (as HAProxy's accept-proxy)
   * and take the client's address from it; see src/proxy/preface.ts.
   */
  proxyProtocol?: ProxyProtocolConfig;
  /** Metrics to count into (the admin endpoint reads them); default: none, and no counting at all. */
  metrics?: ServerMetrics;
}

/** Counters of a server's life so far. */
export interface ServerStats {
  /** Connections open now. */
  connections: number;
  /** Connections admitted since start. */
  accepted: number;
  /** Connections refused by an admission limit (maxConns, per-source caps). */
  refused: number;
  /** Connections closed by a limit or deadline, per reason (`idle`, `frame-timeout`, ...). */
  closedByPolicy: Record<string, number>;
}

/** The sweep runs this often relative to the shortest deadline, within [25 ms, 1 s]. */
function sweepInterval(o: ServerOptions): number {
  const deadlines = [o.idleMs, o.frameMs, o.writeMs, o.lingerMs, o.handshakeMs].filter((d) => d > 0);
  const shortest = deadlines.length ? Math.min(...deadlines) : 1000;
  return Math.min(1000, Math.max(25, Math.floor(shortest / 10)));
}

/**
 * The server core: accepts through a Transport, admits each connection against the limits,
 * runs the deadlines, and drains gracefully on `shutdown()`. `serve()` (per-runtime entries)
 * is the one-call way to start one.
 */
export class Server implements ConnectionHost {
  /** The options in effect: the defaults with the given ones laid over them. */
  readonly options: Readonly<ServerOptions>;
  /** Where the server logs. */
  readonly log: Logger;
  /** Policy-close counters per reason. */
  readonly counters: CloseCounters;
  /** Closed-connection counts for the admin endpoint (src/admin/), when the config asked for them. */
  readonly metrics: ServerMetrics | undefined;
  /** Every listener bound so far (closed by `shutdown()`). */
  readonly listeners: Listener[] = [];
  /** The transport's decoder hint, handed to every session. */
  readonly copyFramesBelow: number | undefined;
  #draining = false;
  readonly #transport: Transport;
  readonly #service: Service;
  readonly #admission: Admission;
  readonly #connections = new Map<Conn, ServerConnection>();
  #accepted = 0;
  #refused = 0;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #onEmpty: (() => void) | undefined;
  /** Accept errors (EMFILE, ...) and odd connection errors: bounded log rate, whatever peers do. */
  readonly #acceptErrors: RateLimitedLog;
  readonly #connErrors: RateLimitedLog;
  /** Per-connection debug lines (conn-open, conn-close): only when the logger writes debug lines. */
  readonly connLines: RateLimitedLog | undefined;
  /** With proxyProtocol: connections waiting for their PROXY header. */
  readonly #prefaces: PrefaceStage | undefined;

  /** Throws a RangeError/TypeError naming a bad or unknown option. Binds nothing yet: see `listen`. */
  constructor(config: ServerConfig) {
    this.options = resolveOptions(config.options, config.openFileLimit);
    this.log = config.log ?? silentLogger;
    this.counters = new CloseCounters(this.log);
    this.metrics = config.metrics;
    this.#transport = config.transport;
    this.copyFramesBelow = config.transport.copyFramesBelow;
    this.#service = config.service;
    this.#admission = new Admission(this.options);
    this.#acceptErrors = new RateLimitedLog(this.log, "accept errors", 5);
    this.#connErrors = new RateLimitedLog(this.log, "connection errors", 20);
    // Asked once here: at info, connections build no debug fields at all.
    if (this.log.enabled?.("debug") ?? false) {
      const budget = config.connLinesPerSecond ?? CONN_LINES_PER_SECOND;
      this.connLines = new RateLimitedLog(this.log, "connection lines", budget);
    }
    if (config.proxyProtocol) {
      this.#prefaces = new PrefaceStage(config.proxyProtocol, {
        log: this.log,
        counters: this.counters,
        frameMs: this.options.frameMs,
        admission: this.#admission,
        promote: (socket, seen, rest, now) => {
          this.#admit(socket, seen, now);
          if (rest.length > 0) this.#connections.get(socket)?.onData(rest);
          if (this.#draining) this.#connections.get(socket)?.drainIfSettled();
        },
      });
    }
  }

  /** True once `shutdown()` has begun. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Connections open now. */
  get connections(): number {
    return this.#connections.size + (this.#prefaces?.size ?? 0);
  }

  /** The open connections (for the admin endpoint's scrape-time sums and its status page). */
  openConnections(): IterableIterator<ConnectionView> {
    return this.#connections.values();
  }

  /** A snapshot of the counters. */
  stats(): ServerStats {
    return {
      connections: this.#connections.size,
      accepted: this.#accepted,
      refused: this.#refused,
      closedByPolicy: this.counters.snapshot(),
    };
  }

  /** Listen on one more address; `reusePort` asks for SO_REUSEPORT (see Listener.reusePort). */
  async listen(addr: Addr, opts: { reusePort?: boolean; tls?: TlsServerOptions } = {}): Promise<Listener> {
    if (this.#draining) throw new Error("server is shutting down");
    const listener = await this.#transport.listen({
      addr,
      reusePort: opts.reusePort,
      highWaterMark: this.options.writeBuffer,
      onAcceptError: (err) => this.#onAcceptError(err),
      ...(opts.tls ? { tls: opts.tls } : {}), // TLS: connections open at TCP accept; see handshake-deadline.ts
    }, this.#handler);
    this.listeners.push(listener);
    this.#sweep ??= setInterval(() => this.#checkDeadlines(), sweepInterval(this.options));
    return listener;
  }

  /**
   * Listen on every address, or on none: when one fails, the listeners already bound are
   * closed (ports and unix socket paths released) before the error is rethrown.
   */
  async listenAll(
    addrs: readonly Addr[],
    opts: { reusePort?: boolean; tls?: TlsServerOptions } = {},
  ): Promise<Listener[]> {
    const bound: Listener[] = [];
    try {
      for (const addr of addrs) bound.push(await this.listen(addr, opts));
    } catch (err) {
      for (const l of bound) this.listeners.splice(this.listeners.indexOf(l), 1);
      await Promise.all(bound.map((l) => l.close()));
      if (this.listeners.length === 0) {
        clearInterval(this.#sweep);
        this.#sweep = undefined;
      }
      throw err;
    }
    return bound;
  }

  /**
   * Graceful drain: stop accepting at once, close idle connections, let in-flight frames
   * finish and their replies flush, and cut whatever is left after `drainMs`.
   */
  async shutdown(): Promise<void> {
    if (!this.#draining) {
      this.#draining = true;
      await Promise.all(this.listeners.map((l) => l.close()));
      this.#prefaces?.abortAll(); // still waiting for a PROXY header: nothing in flight yet
      for (const c of this.#connections.values()) c.drainIfSettled();
    }
    if (this.#connections.size > 0) {
      let giveUp: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        const prev = this.#onEmpty;
        this.#onEmpty = () => {
          prev?.();
          resolve();
        };
        if (this.options.drainMs > 0) {
          giveUp = setTimeout(() => {
            this.abortAll();
            // Hard stop means hard: if an adapter never reports some close, stop waiting.
            giveUp = setTimeout(() => {
              if (this.#connections.size > 0) {
                this.log.error("connections still open after abort; stopping anyway", {
                  connections: this.#connections.size,
                });
              }
              resolve();
            }, ABORT_GRACE_MS);
          }, this.options.drainMs);
        }
      });
      clearTimeout(giveUp);
    }
    clearInterval(this.#sweep);
    this.#sweep = undefined;
    if (this.counters.byReason.size > 0) this.counters.logTotals();
  }

  /**
   * With proxyProtocol: refuse health checks (PROXY LOCAL headers) from now on, still
   * serving clients, so a balancer stops sending before `shutdown()` closes the listeners.
   */
  failHealthChecks(): void {
    this.#prefaces?.failHealthChecks();
  }

  /** Cut every connection now (the hard stop after a drain bound, or a second signal). */
  abortAll(): void {
    for (const c of this.#connections.values()) c.closeByPolicy("drain-timeout", true);
  }

  #onAcceptError(err: Error): void {
    const code = (err as { code?: string }).code;
    const now = Date.now();
    this.#acceptErrors.write("error", "accept failed; backing off", {
      error: err.message,
      code,
      connections: this.#connections.size,
    }, now);
    if (code === "EMFILE") {
      const cap = this.#admission.descriptorsExhausted();
      if (cap !== undefined) {
        this.log.warn("open-file limit reached: max-conns lowered", {
          max_conns: cap,
          connections: this.#connections.size,
        });
      }
    }
  }

  #checkDeadlines(): void {
    const now = Date.now();
    for (const c of this.#connections.values()) {
      c.checkDeadlines(now);
      // A reply that drained below the high-water mark fires no drain event: recheck here.
      if (this.#draining) c.drainIfSettled();
    }
    this.#prefaces?.sweep(now);
    this.#admission.prune(now);
    this.counters.tick(now);
    this.#acceptErrors.flush(now);
    this.#connErrors.flush(now);
    this.connLines?.flush(now);
  }

  /** Admit `socket` under the address `seen` shows (the PROXY header's, or its own), or refuse it. */
  #admit(socket: Conn, seen: Conn, now: number): void {
    const ip = this.#admission.sourceOf(seen.remote);
    const refusal = this.#admission.admit(ip, now);
    if (refusal) {
      this.#refused++;
      this.counters.record(refusal, { peer: formatAddr(seen.remote) });
      socket.close("abort");
      return;
    }
    this.#accepted++;
    try {
      this.#connections.set(socket, new ServerConnection(seen, this.#service, this, now, ip));
    } catch (err) {
      this.#admission.release(ip);
      throw err; // the adapter aborts this connection
    }
  }

  #handler: ConnHandler = {
    open: (conn) => {
      const now = Date.now();
      if (this.#draining) {
        conn.close("abort"); // accepted just before the listener closed
        return;
      }
      if (this.#prefaces) this.#prefaces.open(conn, now); // admitted once its PROXY header is read
      else this.#admit(conn, conn, now);
    },
    data: (conn, chunk) => {
      const c = this.#connections.get(conn);
      if (c) c.onData(chunk);
      else this.#prefaces?.data(conn, chunk);
    },
    end: (conn) => {
      const c = this.#connections.get(conn);
      if (c) c.onEnd();
      else if (!this.#prefaces?.end(conn)) conn.close("abort");
    },
    drain: (conn) => this.#connections.get(conn)?.onDrain(),
    close: (conn, err) => {
      const c = this.#connections.get(conn);
      if (!c) return this.#prefaces?.close(conn);
      this.#connections.delete(conn);
      this.#admission.release(c.source);
      if (err && !isPeerReset(err)) {
        this.#connErrors.write(
          "warn",
          "connection error",
          { peer: c.peer, conn: conn.id, error: err.message },
          Date.now(),
        );
      }
      c.onClose(err);
      if (this.#connections.size === 0) {
        const done = this.#onEmpty;
        this.#onEmpty = undefined;
        done?.();
      }
    },
  };
}
