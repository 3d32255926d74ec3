// Hostile (and plain) TCP clients for the reliability suite, on node:net in the test
// driver. Each connection can come from its own loopback source address (127.0.0.2,
// 127.0.0.3, ...): Linux routes all of 127/8 to lo, so per-source limits can be
// exercised from one machine.
import * as net from "node:net";
import { defer } from "./cleanup.ts";

/** `count` distinct loopback source addresses starting at 127.0.0.`first`. */
export function sources(count: number, first = 2): string[] {
  return Array.from({ length: count }, (_, i) => {
    const n = first + i - 1;
    return `127.0.${Math.floor(n / 254)}.${(n % 254) + 1}`;
  });
}

export interface Peer {
  socket: net.Socket;
  source: string;
  /** The TCP handshake completed (the server may still refuse and close it at once). */
  connected: boolean;
  closed: boolean;
  /** How it ended: the server's FIN, a reset / other error, or our own destroy. */
  how?: "end" | "error" | "local";
  error?: string;
  openedAt: number;
  closedAt?: number;
  received: number;
}

export interface OpenOptions {
  sources: readonly string[];
  /** Connections started at once; the next batch starts when these are connected (or failed). */
  batch?: number;
  /** Keep our side open after the server's FIN (default false: answer FIN with FIN). */
  allowHalfOpen?: boolean;
  /** Never read: data piles up in our receive buffer and the server's send buffer. */
  noRead?: boolean;
  /** Called once connected. */
  onConnect?(p: Peer): void;
  connectTimeoutMs?: number;
}

/** A set of client connections and what happened to them. */
export class Crowd {
  readonly peers: Peer[] = [];
  #stopped = false;

  constructor(readonly host: string, readonly port: number) {
    // Whatever a failed test leaves open is closed after it (destroyAll is idempotent).
    defer(() => {
      this.stop();
      return this.destroyAll();
    });
  }

  /** Open `count` connections round-robin over `opts.sources`; resolves when every one has connected or failed. */
  async open(count: number, opts: OpenOptions): Promise<Peer[]> {
    const batch = opts.batch ?? 100;
    const made: Peer[] = [];
    for (let i = 0; i < count && !this.#stopped; i += batch) {
      const n = Math.min(batch, count - i);
      const group = Array.from(
        { length: n },
        (_, j) => this.#connect(opts.sources[(i + j) % opts.sources.length]!, opts),
      );
      made.push(...(await Promise.all(group)));
    }
    return made;
  }

  #connect(source: string, opts: OpenOptions): Promise<Peer> {
    return new Promise((resolve) => {
      const socket = net.connect({
        host: this.host,
        port: this.port,
        localAddress: source,
        allowHalfOpen: opts.allowHalfOpen ?? false,
      });
      const peer: Peer = { socket, source, connected: false, closed: false, openedAt: Date.now(), received: 0 };
      this.peers.push(peer);
      const timer = setTimeout(() => {
        peer.error ??= "connect timeout";
        socket.destroy();
      }, opts.connectTimeoutMs ?? 10_000);
      socket.on("connect", () => {
        clearTimeout(timer);
        peer.connected = true;
        opts.onConnect?.(peer);
        resolve(peer);
      });
      if (opts.noRead) socket.pause();
      else socket.on("data", (b: Buffer) => (peer.received += b.length));
      socket.on("end", () => (peer.how ??= "end"));
      socket.on("error", (err: Error & { code?: string }) => {
        peer.how ??= "error";
        peer.error ??= err.code ?? err.message;
      });
      socket.on("close", () => {
        clearTimeout(timer);
        peer.closed = true;
        peer.closedAt = Date.now();
        peer.how ??= "local";
        resolve(peer);
      });
    });
  }

  /** Start no further batches of a running open(). */
  stop(): void {
    this.#stopped = true;
  }

  /** Connected and not (yet) closed. */
  get openCount(): number {
    return this.peers.filter((p) => p.connected && !p.closed).length;
  }

  get closedCount(): number {
    return this.peers.filter((p) => p.closed).length;
  }

  /** Close every connection at once (an RST where one can be sent), and wait for the close events. */
  async destroyAll(): Promise<void> {
    const pending = this.peers.filter((p) => !p.closed).map((p) =>
      new Promise<void>((r) => {
        p.socket.once("close", () => r());
        if (p.socket.connecting || p.socket.destroyed) p.socket.destroy();
        else p.socket.resetAndDestroy();
      })
    );
    await Promise.all(pending);
  }
}

/**
 * How many of `peers` are really being served: each open one sends a line and must see
 * some bytes come back within `timeoutMs` (a connection still in the kernel's backlog,
 * never accepted, looks open from our side but never answers).
 */
export async function servedCount(peers: readonly Peer[], timeoutMs = 1500): Promise<number> {
  const checks = peers.filter((p) => p.connected && !p.closed).map((p) =>
    new Promise<boolean>((resolve) => {
      const before = p.received;
      const timer = setTimeout(() => resolve(p.received > before), timeoutMs);
      const onData = () => {
        clearTimeout(timer);
        resolve(true);
      };
      p.socket.once("data", onData);
      p.socket.write("ping\n");
    })
  );
  return (await Promise.all(checks)).filter(Boolean).length;
}

/** Sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Poll `read` every `everyMs` until it returns `target` (any value when omitted) and then
 * keeps returning the same value for `quietMs`; gives up after `timeoutMs`. Returns the
 * last value read, for the caller to assert on exactly.
 */
export async function steady<T>(
  read: () => T,
  opts: { target?: T; quietMs?: number; timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const { quietMs = 300, timeoutMs = 5000, everyMs = 25 } = opts;
  const until = Date.now() + timeoutMs;
  let value = read();
  let since = Date.now();
  for (;;) {
    const reached = !("target" in opts) || value === opts.target;
    if (reached && Date.now() - since >= quietMs) return value;
    if (Date.now() > until) return value;
    await sleep(everyMs);
    const next = read();
    if (next !== value) {
      value = next;
      since = Date.now();
    }
  }
}

/** Poll `cond` every `everyMs` until it holds; false if `timeoutMs` passes first. */
export async function eventually(cond: () => boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (Date.now() > until) return false;
    await sleep(everyMs);
  }
}

/** Write with backpressure until `total` bytes are written or the socket closes; resolves with bytes written. */
export function pump(socket: net.Socket, total: number, chunk: Uint8Array): Promise<number> {
  return new Promise((resolve) => {
    let written = 0;
    const done = () => resolve(written);
    socket.once("close", done);
    const go = () => {
      while (written < total && !socket.destroyed) {
        const piece = chunk.subarray(0, Math.min(chunk.length, total - written));
        written += piece.length;
        if (!socket.write(piece)) return void socket.once("drain", go);
      }
      if (written >= total) {
        socket.off("close", done);
        resolve(written);
      }
    };
    go();
  });
}

/** One connection: send `payload` (then FIN unless `fin` is false), collect the reply until the server closes. */
export function request(
  host: string,
  port: number,
  payload: Uint8Array | string,
  opts: { source?: string; fin?: boolean; timeoutMs?: number } = {},
): Promise<{ reply: Buffer; how: "end" | "error" | "timeout"; error?: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let how: "end" | "error" | "timeout" | undefined;
    let error: string | undefined;
    const socket = net.connect({ host, port, localAddress: opts.source, allowHalfOpen: true });
    const timer = setTimeout(() => {
      how ??= "timeout";
      socket.destroy();
    }, opts.timeoutMs ?? 10_000);
    socket.on("connect", () => {
      socket.write(payload);
      if (opts.fin !== false) socket.end();
    });
    socket.on("data", (b: Buffer) => chunks.push(b));
    socket.on("end", () => {
      how ??= "end";
      socket.end();
    });
    socket.on("error", (err: Error & { code?: string }) => {
      how ??= "error";
      error = err.code ?? err.message;
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ reply: Buffer.concat(chunks), how: how ?? "error", error, ms: performance.now() - t0 });
    });
  });
}
