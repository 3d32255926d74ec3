// Minimal structural types for the parts of Bun's API this adapter uses.
// The project type-checks with `types: ["node"]`; installing @types/bun would declare
// globals that clash with @types/node (and with Deno's), so we describe only what we
// call and reach Bun through `globalThis`. Behaviour notes are what Bun 1.4.5 does,
// verified by experiment (some differ from Bun's own reference docs).

/** An error Bun reports for a socket or listen failure: carries the OS error name. */
export interface BunSysError extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
}

/** A connected socket (TCP or unix) as Bun hands it to the handlers. */
export interface BunSocket<D = unknown> {
  data: D;
  /** 1 while open, -1 once closed. */
  readonly readyState: number;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  /**
   * Hands bytes to the kernel without buffering: returns how many it took (possibly 0,
   * possibly fewer than given), or -1 once the socket is closed.
   */
  write(data: Uint8Array | string): number;
  /**
   * Bun 1.4.5: no argument (or false) = shutdown(SHUT_WR), a true half-close;
   * `true` = shutdown(SHUT_RD). (The reference docs describe it the other way round.)
   * Once both directions are shut, Bun closes the socket by itself.
   */
  shutdown(halfClose?: boolean): void;
  /** close(2) at once (not a half-close, even with allowHalfOpen); `close` fires synchronously. */
  end(): void;
  /** SO_LINGER 0 + close(2): sends RST. `close` fires synchronously. */
  terminate(): void;
  /** Stop / start polling for readability (the kernel receive window fills while paused). */
  pause(): void;
  resume(): void;
  setNoDelay(on?: boolean): boolean;
  /** Delay in milliseconds (Bun sets TCP_KEEPIDLE to delay/1000 s). */
  setKeepAlive(on?: boolean, initialDelayMs?: number): boolean;
}

export interface BunSocketHandler<D> {
  binaryType?: "buffer" | "uint8array" | "arraybuffer";
  open?(socket: BunSocket<D>): void;
  /** With binaryType "uint8array": a freshly allocated, exactly-sized chunk each time. */
  data?(socket: BunSocket<D>, data: Uint8Array): void;
  drain?(socket: BunSocket<D>): void;
  /** The peer's FIN (only while we have not shut down our side ourselves). */
  end?(socket: BunSocket<D>): void;
  close?(socket: BunSocket<D>, error?: BunSysError): void;
  error?(socket: BunSocket<D>, error: BunSysError): void;
  connectError?(socket: BunSocket<D>, error: BunSysError): void;
  /** TLS only: the handshake finished; `success` false when it (or verification) failed. */
  handshake?(socket: BunSocket<D>, success: boolean, authorizationError: BunSysError | null): void;
}

export interface BunTcpListenOptions<D> {
  hostname: string;
  port: number;
  reusePort?: boolean;
  allowHalfOpen?: boolean;
  socket: BunSocketHandler<D>;
  /** TLS settings (node:tls-style names: cert, key, ca, requestCert, ...); see tls.ts. */
  tls?: Record<string, unknown>;
}

export interface BunUnixListenOptions<D> {
  unix: string;
  allowHalfOpen?: boolean;
  socket: BunSocketHandler<D>;
}

export interface BunTcpListener {
  readonly port?: number;
  readonly hostname?: string;
  readonly unix?: string;
  /** Fills `out` with the bound address of a TCP listener. */
  getsockname(out: { family?: string; address?: string; port?: number }): void;
  /** `false`: stop accepting and close the listening socket; established sockets stay. */
  stop(closeActiveConnections?: boolean): void;
}

export interface BunTcpConnectOptions<D> {
  hostname: string;
  port: number;
  allowHalfOpen?: boolean;
  data?: D;
  socket: BunSocketHandler<D>;
  tls?: Record<string, unknown>;
}

export interface BunUnixConnectOptions<D> {
  unix: string;
  allowHalfOpen?: boolean;
  data?: D;
  socket: BunSocketHandler<D>;
}

/**
 * An incremental writer (Bun.stdout.writer()). write() returns a promise when the fd
 * could not take everything at once (it rejects on EPIPE); flush() may return 0 at once
 * while such a write is still pending.
 */
export interface BunFileSink {
  write(data: string | Uint8Array): number | boolean | Promise<number>;
  flush(): number | boolean | Promise<number | boolean>;
}

export interface BunFile {
  bytes(): Promise<Uint8Array>;
  writer(): BunFileSink;
}

export interface BunApi {
  readonly version: string;
  listen<D>(opts: BunTcpListenOptions<D> | BunUnixListenOptions<D>): BunTcpListener;
  connect<D>(opts: BunTcpConnectOptions<D> | BunUnixConnectOptions<D>): Promise<BunSocket<D>>;
  file(path: string): BunFile;
  readonly stdin: { stream(): ReadableStream<Uint8Array> };
  readonly stdout: BunFile;
  readonly stderr: BunFile;
  /** Start a process (serve --workers). */
  spawn(opts: { cmd: string[]; stdin: "pipe"; stdout: "pipe"; stderr: "inherit" }): BunSubprocess;
}

export interface BunSubprocess {
  readonly pid: number;
  /** Resolves with the exit code (or 128+signal); `signalCode` names the signal then. */
  readonly exited: Promise<number>;
  readonly signalCode: string | null;
  readonly stdout: ReadableStream<Uint8Array>;
  kill(signal?: string): void;
}

/** The Bun global, when running on Bun. */
export function bunApi(): BunApi {
  const bun = (globalThis as { Bun?: BunApi }).Bun;
  if (!bun) throw new Error("the Bun adapter needs the Bun runtime");
  return bun;
}
