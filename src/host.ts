// The Host contract: everything besides sockets that the CLI needs from a runtime
// (arguments, stdio, files, signals, exit). Each adapter provides one next to its Transport.

import type { Transport } from "./transport.ts";

export type Signal = "SIGINT" | "SIGTERM";

export interface Output {
  /** Write text or bytes; resolves once the runtime has accepted them. */
  write(data: string | Uint8Array): Promise<void>;
}

export interface Host {
  readonly runtime: "node" | "deno" | "bun";
  /** Version string of the runtime itself, e.g. "node 20.20.2". */
  readonly runtimeVersion: string;
  /** Command-line arguments after the program (and script) name. */
  readonly args: readonly string[];
  env(name: string): string | undefined;
  readonly stdout: Output;
  readonly stderr: Output;
  /** Standard input as a stream of chunks; ends at EOF. */
  stdin(): AsyncIterable<Uint8Array>;
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
