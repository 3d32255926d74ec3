// The Host contract: everything besides sockets that the CLI needs from a runtime
// (arguments, stdio, files, signals, exit). Each adapter provides one next to its Transport.

import type { Transport } from "./transport.ts";

/** SIGHUP: serve reloads its TLS certificate. */
export type Signal = "SIGINT" | "SIGTERM" | "SIGHUP";

export interface Output {
  /** Write text or bytes; resolves once the runtime has accepted them. */
  write(data: string | Uint8Array): Promise<void>;
}

/** The process's own stdout/stderr: an Output that can tell whether it is a terminal. */
export interface StdOutput extends Output {
  /** True when the stream is a terminal (a TTY), where control characters act instead of printing. */
  isTerminal(): boolean;
}

export interface Host {
  readonly runtime: "node" | "deno" | "bun";
  /** Version string of the runtime itself, e.g. "node 20.20.2". */
  readonly runtimeVersion: string;
  /** Operating system as release names spell it: "linux", "darwin", "windows" (src/platform.ts). */
  readonly platform: string;
  /** CPU architecture as release names spell it: "x64", "arm64" (src/platform.ts). */
  readonly arch: string;
  /** Command-line arguments after the program (and script) name. */
  readonly args: readonly string[];
  env(name: string): string | undefined;
  readonly stdout: StdOutput;
  readonly stderr: StdOutput;
  /** Standard input as a stream of chunks; ends at EOF. */
  stdin(): AsyncIterable<Uint8Array>;
  /** Rejects with a FileError (src/net-errors.ts): the same code and sentence on every runtime. */
  readFile(path: string): Promise<Uint8Array>;
  /** Size of a file in bytes, without reading it (to refuse a file too large before reading). */
  fileSize(path: string): Promise<number>;
  /** Call `fn` on the signal; returns a function that removes the listener. */
  onSignal(signal: Signal, fn: () => void): () => void;
  /** Soft limit on open file descriptors, when the runtime can tell. */
  openFileLimit(): number | undefined;
  /** How many descriptors are open now, when the runtime can tell (see `descriptorsLeft`). */
  openFileCount?(): number | undefined;
  /** Resident set size in bytes, when the runtime can tell. */
  memoryRss(): number | undefined;
  /** CPU seconds (user + system) this process has used so far, when the runtime can tell (bench). */
  cpuSeconds?(): number | undefined;
  /** Flush stdio and end the process with `code`. */
  exit(code: number): Promise<never>;
  /**
   * Create or replace the file at `path` (bench --plot). Rejects with a FileError like
   * readFile. Optional so that hosts written before it still type-check; all three adapters have it.
   */
  writeFile?(path: string, data: Uint8Array): Promise<void>;
  /**
   * Worker processes for `serve --workers` (src/workers/); absent where the runtime cannot
   * start copies of this program.
   */
  readonly workers?: WorkerSpawner;
  /**
   * Serve HTTP on a TCP address with the runtime's own HTTP server (each adapter's http.ts),
   * speaking web-standard Request/Response (the admin endpoint, src/admin/).
   * Rejects with a ListenError when the address cannot be bound. Optional: test hosts lack it.
   */
  serveHttp?(opts: HttpServeOptions, handler: HttpHandler): Promise<HttpServer>;
}

/** Starts copies of the running program as workers of `serve --workers` (src/workers/). */
export interface WorkerSpawner {
  /**
   * How workers share a port: each binds it with SO_REUSEPORT ("reuseport": the kernel
   * spreads connections), or a cluster primary (the Node adapter) binds it and hands them out.
   */
  readonly sharing: "reuseport" | "cluster";
  /** Logical CPU cores (`--workers auto`). */
  cores(): number;
  /**
   * Start this program again, the same way it was started (runtime flags and permissions
   * included), with `args` as its arguments. The child's stdin and stdout are pipes: the
   * stdout carries its control lines; its stdin is never written and ends when we exit.
   * Throws an Error saying what is missing when the runtime refuses.
   */
  spawn(args: readonly string[]): WorkerProcess;
}

/** A worker process started by a WorkerSpawner. */
export interface WorkerProcess {
  readonly pid: number;
  /** Each line the worker writes to its stdout, without the newline, in order. */
  onLine(fn: (line: string) => void): void;
  /** Settles when the process has ended: its exit code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** Send a signal (SIGHUP: reload TLS files); a process already gone is not an error. */
  kill(signal: Signal | "SIGKILL"): void;
}

/** One HTTP request in, one response out; a throw becomes a plain 500. */
export type HttpHandler = (req: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/**
 * The part of the web-standard `Request` a handler reads (declared here so that the
 * contract needs no DOM types; every runtime's `Request` has it).
 */
export interface HttpRequest {
  readonly method: string;
  /** Absolute: `http://host:port/path?query`. */
  readonly url: string;
  readonly headers: { forEach(fn: (value: string, name: string) => void): void };
}

/** The part of the web-standard `Response` an adapter sends; handlers return a real `Response`. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: { forEach(fn: (value: string, name: string) => void): void };
  /** null for a response without a body. */
  readonly body: unknown;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface HttpServeOptions {
  hostname: string;
  /** 0 asks the OS for a free port (see HttpServer.port). */
  port: number;
  /** Request line plus headers above this size are refused with 431 (by the runtime, or by the bridge). */
  maxHeaderBytes: number;
}

/** A running HTTP server started by Host.serveHttp. */
export interface HttpServer {
  readonly hostname: string;
  /** The bound port (the real one where 0 was asked for). */
  readonly port: number;
  /** Stop listening and close idle keep-alive connections. */
  close(): Promise<void>;
}

/** What an entry point hands the CLI: one runtime's sockets plus its host services. */
export interface Runtime {
  transport: Transport;
  host: Host;
}

/**
 * The descriptors this process may still open: the open-file limit less those open now,
 * when the runtime can tell. Counting the open ones matters: Deno run from a URL holds a
 * hundred or so (its module downloads' connections) before the first byte is served.
 */
export function descriptorsLeft(host: Pick<Host, "openFileLimit" | "openFileCount">): number | undefined {
  const limit = host.openFileLimit();
  if (limit === undefined) return undefined;
  return Math.max(0, limit - (host.openFileCount?.() ?? 0));
}
