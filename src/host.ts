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
  /** Resident set size in bytes, when the runtime can tell. */
  memoryRss(): number | undefined;
  /** Flush stdio and end the process with `code`. */
  exit(code: number): Promise<never>;
}

/** What an entry point hands the CLI: one runtime's sockets plus its host services. */
export interface Runtime {
  transport: Transport;
  host: Host;
}
