// The preface stage of `serve --proxy-protocol`: between the Transport and the service,
// each connection must first deliver a valid PROXY header (v1 or v2), within the frame
// deadline, from a trusted source. Only then does the server admit it under the client's
// address (per-source limits, logs, the session) and hand the bytes after the header to
// the service. Held connections count against the global cap from TCP accept on.

import { formatAddr } from "../addr.ts";
import type { Admission } from "../server/admission.ts";
import type { CloseCounters } from "../server/close-reasons.ts";
import type { Logger } from "../log.ts";
import type { Addr, Conn } from "../transport.ts";
import type { TrustedNets } from "./cidr.ts";
import { ProxyHeaderError } from "./errors.ts";
import type { ProxyHeader } from "./header.ts";
import { ProxyHeaderDecoder } from "./parse.ts";
import { ProxiedConn } from "./proxied-conn.ts";
import { RateLimitedLog } from "../server/rate-limited-log.ts";

/** Budget of the debug "proxy header" lines (its own, besides the connection lines'). */
export const HEADER_LINES_PER_SECOND = 1000;

/** `ServerConfig.proxyProtocol`: require a PROXY header on every connection. */
export interface ProxyProtocolConfig {
  /** Networks allowed to send one (--proxy-trusted); absent = any source (firewall it yourself). */
  trusted?: TrustedNets;
  /** Largest v2 header accepted, TLVs included (default 4096; refused from its length field). */
  v2Limit?: number;
}

/** What the stage needs from its server. */
export interface PrefaceHost {
  readonly log: Logger;
  readonly counters: CloseCounters;
  readonly frameMs: number;
  readonly admission: Admission;
  /** The header is read: admit `seen` (the client's view of `socket`) and feed it `rest`. */
  promote(socket: Conn, seen: Conn, rest: Uint8Array, now: number): void;
}

interface Held {
  decoder: ProxyHeaderDecoder;
  since: number;
  bytes: number;
}

export class PrefaceStage {
  readonly #held = new Map<Conn, Held>();
  #failingChecks = false;
  /** One debug line per header at most this often: a connection flood cannot flood the log. */
  readonly #lines: RateLimitedLog | undefined;

  constructor(private readonly config: ProxyProtocolConfig, private readonly host: PrefaceHost) {
    if (host.log.enabled?.("debug")) {
      this.#lines = new RateLimitedLog(host.log, "proxy header lines", HEADER_LINES_PER_SECOND);
    }
  }

  /** Connections accepted whose header has not arrived yet. */
  get size(): number {
    return this.#held.size;
  }

  /**
   * From now on refuse the balancer's health checks (LOCAL headers) while still serving
   * clients: the balancer takes this instance out before it stops listening (--drain-delay).
   */
  failHealthChecks(): void {
    this.#failingChecks = true;
  }

  /** TCP accept: refuse untrusted sources before reading a byte; count the rest globally. */
  open(conn: Conn, now: number): void {
    if (this.config.trusted && !this.config.trusted.matches(conn.remote)) {
      this.host.counters.record("proxy-untrusted", { peer: formatAddr(conn.remote) }, now);
      conn.close("abort");
      return;
    }
    const refusal = this.host.admission.admit(undefined, now); // the global cap, from accept on
    if (refusal) {
      this.host.counters.record(refusal, { peer: formatAddr(conn.remote) }, now);
      conn.close("abort");
      return;
    }
    this.#held.set(conn, { decoder: new ProxyHeaderDecoder(this.config.v2Limit), since: now, bytes: 0 });
  }

  /** Bytes from a held connection; false if `conn` is not held here. */
  data(conn: Conn, chunk: Uint8Array): boolean {
    const h = this.#held.get(conn);
    if (!h) return false;
    h.bytes += chunk.length;
    let got;
    try {
      got = h.decoder.push(chunk);
    } catch (err) {
      this.#refuse(conn, err);
      return true;
    }
    if (!got) return true;
    this.#release(conn);
    if (this.#failingChecks && got.header.command === "local") {
      this.host.log.debug("health check refused: draining", { via: formatAddr(conn.remote), conn: conn.id });
      conn.close("abort");
      return true;
    }
    const seen = new ProxiedConn(conn, clientAddr(got.header, conn));
    if (this.#lines) {
      this.#lines.write("debug", "proxy header", {
        peer: formatAddr(seen.remote),
        via: formatAddr(conn.remote),
        version: got.header.version,
        command: got.header.command,
        conn: conn.id,
      }, Date.now());
    }
    this.host.promote(conn, seen, got.rest, Date.now());
    return true;
  }

  /** The peer's FIN before a complete header; false if `conn` is not held here. */
  end(conn: Conn): boolean {
    const h = this.#held.get(conn);
    if (!h) return false;
    // A bare connect-and-close (a port probe, a plain TCP check) is no refusal worth a line.
    if (h.bytes === 0) {
      this.#release(conn);
      conn.close("abort");
      return true;
    }
    try {
      h.decoder.end();
    } catch (err) {
      this.#refuse(conn, err);
    }
    return true;
  }

  /**
   * Shutdown: close every held connection. None has reached the service yet, so there is
   * no in-flight work to finish (and the server's drain waits only for admitted ones).
   */
  abortAll(): void {
    for (const conn of [...this.#held.keys()]) {
      this.#release(conn);
      conn.close("abort");
    }
  }

  /** The socket closed while held. */
  close(conn: Conn): void {
    if (this.#held.has(conn)) this.#release(conn);
  }

  /** The frame deadline covers the header: from accept, not reset by trickled bytes. */
  sweep(now: number): void {
    this.#lines?.flush(now);
    if (this.host.frameMs <= 0) return;
    for (const [conn, h] of this.#held) {
      if (now - h.since > this.host.frameMs) {
        this.#release(conn);
        this.host.counters.record("frame-timeout", {
          peer: formatAddr(conn.remote),
          stage: "proxy-header",
          bytes_in: h.bytes,
        }, now);
        conn.close("abort");
      }
    }
  }

  #refuse(conn: Conn, err: unknown): void {
    if (!(err instanceof ProxyHeaderError)) throw err;
    this.#release(conn);
    this.host.counters.record("proxy-header", { peer: formatAddr(conn.remote), error: err.message });
    conn.close("abort");
  }

  #release(conn: Conn): void {
    this.#held.delete(conn);
    this.host.admission.release(undefined);
  }
}

/** LOCAL, UNKNOWN and UNSPEC headers speak for the balancer itself: keep the socket's address. */
function clientAddr(header: ProxyHeader, conn: Conn): Addr {
  return header.command === "proxy" && header.source ? header.source : conn.remote;
}
