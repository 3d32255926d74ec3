// Minimal structural types for the parts of the Deno namespace this adapter uses.
//
// The project type-checks with `types: ["node"]`; @types/deno (or `deno types`) declares
// globals that clash with @types/node, so instead of a global declaration the adapter
// reads `globalThis.Deno` through these interfaces (see `deno` below). Shapes follow the
// Deno 2.x runtime declarations (`deno types`), trimmed to what we call.

export interface DenoNetAddr {
  transport: "tcp" | "udp";
  hostname: string;
  port: number;
}

export interface DenoUnixAddr {
  transport: "unix" | "unixpacket";
  /** null for the unnamed end of a connection (e.g. the accepted side). */
  path: string | null;
}

export type DenoAddr = DenoNetAddr | DenoUnixAddr;

export interface DenoConn {
  /** Resolves to the number of bytes read, or null at EOF (the peer's FIN). */
  read(p: Uint8Array): Promise<number | null>;
  /** Resolves to the number of bytes written: possibly fewer than p.length. */
  write(p: Uint8Array): Promise<number>;
  close(): void;
  /** shutdown(SHUT_WR): send FIN, keep the read side open. */
  closeWrite(): Promise<void>;
  readonly localAddr: DenoAddr;
  readonly remoteAddr: DenoAddr;
  ref(): void;
  unref(): void;
  /** TcpConn only. */
  setNoDelay?(noDelay?: boolean): void;
  /** TcpConn only. No initial-delay parameter. */
  setKeepAlive?(keepAlive?: boolean): void;
}

export interface DenoListener {
  accept(): Promise<DenoConn>;
  close(): void;
  readonly addr: DenoAddr;
  ref(): void;
  unref(): void;
}

export interface DenoTcpListenOptions {
  transport?: "tcp";
  hostname?: string;
  port?: number;
  /** Linux only; needs --unstable-net (without it Deno terminates the process). */
  reusePort?: boolean;
}

export interface DenoUnixListenOptions {
  transport: "unix";
  path: string;
}

export interface DenoTcpConnectOptions {
  transport?: "tcp";
  hostname?: string;
  port: number;
  signal?: AbortSignal;
}

export interface DenoUnixConnectOptions {
  transport: "unix";
  path: string;
}

export interface DenoFileInfo {
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
  /** null on platforms that cannot tell (Windows). */
  isSocket: boolean | null;
}

export interface DenoWriter {
  write(p: Uint8Array): Promise<number>;
}

export interface DenoReader {
  read(p: Uint8Array): Promise<number | null>;
}

export type DenoSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

export interface DenoApi {
  readonly version: { deno: string; v8: string; typescript: string };
  /** `standalone`: running as a `deno compile` binary. */
  readonly build: { os: string; arch: string; standalone?: boolean };
  /** URL of the program's entry module. */
  readonly mainModule: string;
  readonly args: string[];
  readonly env: { get(key: string): string | undefined };
  readonly stdin: DenoReader;
  readonly stdout: DenoWriter;
  readonly stderr: DenoWriter;
  readonly errors: Record<string, new (...args: never[]) => Error>;

  listen(options: DenoTcpListenOptions): DenoListener;
  listen(options: DenoUnixListenOptions): DenoListener;
  connect(options: DenoTcpConnectOptions): Promise<DenoConn>;
  connect(options: DenoUnixConnectOptions): Promise<DenoConn>;
  /** Present only when the process runs with --unstable-net (used as a feature probe). */
  listenDatagram?: unknown;

  lstatSync(path: string): DenoFileInfo;
  removeSync(path: string): void;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  stat(path: string): Promise<{ size: number }>;
  readTextFileSync(path: string): string;

  readonly permissions: {
    querySync(desc: { name: "read"; path?: string } | { name: "env"; variable?: string } | { name: string }): {
      state: "granted" | "denied" | "prompt";
    };
  };

  addSignalListener(signal: DenoSignal, handler: () => void): void;
  removeSignalListener(signal: DenoSignal, handler: () => void): void;
  memoryUsage(): { rss: number; heapTotal: number; heapUsed: number; external: number };
  /** Microseconds of CPU this process has used (Deno 2.4+). */
  cpuUsage?(): { user: number; system: number };
  exit(code?: number): never;
  /** Path of the running executable (serve --workers). */
  execPath(): string;
  /** Subprocesses (serve --workers). */
  readonly Command: new (cmd: string, opts: DenoCommandOptions) => { spawn(): DenoChildProcess };
}

export interface DenoCommandOptions {
  args: string[];
  stdin: "piped";
  stdout: "piped";
  stderr: "inherit";
}

export interface DenoChildProcess {
  readonly pid: number;
  readonly status: Promise<{ success: boolean; code: number; signal: string | null }>;
  readonly stdout: ReadableStream<Uint8Array>;
  kill(signal?: string): void;
}

/** The running Deno namespace, typed structurally. Only valid when running under Deno. */
export function deno(): DenoApi {
  const d = (globalThis as { Deno?: DenoApi }).Deno;
  if (d === undefined) throw new Error("the Deno adapter needs the Deno runtime");
  return d;
}
