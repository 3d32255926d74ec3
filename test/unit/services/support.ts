// Helpers for service and app tests: a real Server on loopback port 0 over this
// runtime's adapter, raw socket exchanges, and an in-process CLI with a fake Host.
import { FileError } from "../../../src/net-errors.ts";
import type { Host, Runtime } from "../../../src/host.ts";
import { createLogger, type Logger } from "../../../src/log.ts";
import type { ServerOptions } from "../../../src/server/options.ts";
import { Server } from "../../../src/server/server.ts";
import type { Service } from "../../../src/server/service.ts";
import type { Addr, Conn, Transport } from "../../../src/transport.ts";
import { runCli } from "../../../src/cli/main.ts";
import { loadRuntime } from "../../support/runtime.ts";
import { concat, LOOPBACK, sleep, withTimeout } from "../../support/sockets.ts";

let runtime: Runtime | undefined;
export async function transport(): Promise<Transport> {
  runtime ??= await loadRuntime();
  return runtime.transport;
}

export interface Running {
  server: Server;
  addr: Addr;
  port: number;
  logs: string[];
  /** How many `data` events (reads) the server has had so far, over all its connections. */
  reads(): number;
  /** Reading state of each accepted connection, in accept order, as the server set it with pause()/resume(). */
  readState: ReadState[];
  stop(): Promise<void>;
}

export interface ReadState {
  /** The server's last call was pause() (and no resume() since). */
  paused: boolean;
  pauses: number;
  resumes: number;
  /** conn.write() calls the server made. */
  writes: number;
}

/** Records the server's pause()/resume()/write() calls on `c` (then forwards them) in a new ReadState. */
function watchPauses(c: Conn, states: ReadState[]): void {
  const state: ReadState = { paused: false, pauses: 0, resumes: 0, writes: 0 };
  states.push(state);
  const pause = c.pause.bind(c);
  const resume = c.resume.bind(c);
  const write = c.write.bind(c);
  Object.assign(c, {
    write(bytes: Uint8Array) {
      state.writes++;
      return write(bytes);
    },
    pause() {
      state.paused = true;
      state.pauses++;
      pause();
    },
    resume() {
      state.paused = false;
      state.resumes++;
      resume();
    },
  });
}

/**
 * `t`, with every `data` event its listeners deliver counted in `count.reads`, and the
 * server's pause()/resume() calls on each accepted connection recorded in `states`.
 */
function countingReads(t: Transport, count: { reads: number }, states: ReadState[] = []): Transport {
  return {
    runtime: t.runtime,
    connect: (opts, handler) => t.connect(opts, handler),
    // The server's handler is a plain object of arrow functions: a copy behaves the same.
    listen: (opts, handler) =>
      t.listen(opts, {
        ...handler,
        open(c) {
          watchPauses(c, states);
          handler.open?.(c);
        },
        data(c, chunk) {
          count.reads++;
          handler.data(c, chunk);
        },
      }),
  };
}

/** A real server core running `service` on 127.0.0.1, port chosen by the OS. */
export async function serve(service: Service, options: Partial<ServerOptions> = {}): Promise<Running> {
  const logs: string[] = [];
  const log: Logger = createLogger({ write: (s) => Promise.resolve(void logs.push(String(s))) }, "text", "debug");
  const count = { reads: 0 };
  const readState: ReadState[] = [];
  const server = new Server({
    transport: countingReads(await transport(), count, readState),
    service,
    options: { drainMs: 2000, ...options },
    log,
  });
  const listener = await server.listen(LOOPBACK);
  const addr = listener.addr;
  const port = addr.transport === "tcp" ? addr.port : 0;
  return {
    server,
    addr,
    port,
    logs,
    reads: () => count.reads,
    readState,
    stop: () => withTimeout(server.shutdown(), 10_000, "server shutdown"),
  };
}

export interface Talk {
  received: Uint8Array;
  error?: Error;
  /** The server's FIN arrived (as opposed to a reset). */
  gotEnd: boolean;
}

/**
 * Connect, send `pieces` one write each, half-close unless told not to, and collect
 * everything until the connection closes (bounded).
 *
 * With `gapMs`, the pieces go out `gapMs` apart with Nagle off, so each leaves as its own
 * segment and the server reads them in many reads (see `trickle`). Without it, pieces
 * written back to back all arrive before the server reads: one read, however small.
 */
export async function talk(
  addr: Addr,
  pieces: readonly Uint8Array[],
  opts: { gapMs?: number; halfClose?: boolean; timeoutMs?: number; closeAfter?: number } = {},
): Promise<Talk> {
  const t = await transport();
  const chunks: Uint8Array[] = [];
  let gotEnd = false;
  let total = 0;
  let closed!: (r: Talk) => void;
  const done = new Promise<Talk>((r) => (closed = r));
  const conn = await t.connect({ addr }, {
    data(c, chunk) {
      chunks.push(chunk);
      total += chunk.length;
      if (opts.closeAfter !== undefined && total >= opts.closeAfter) c.close();
    },
    end(c) {
      gotEnd = true;
      c.end();
    },
    close(_c, error) {
      closed({ received: concat(chunks), error, gotEnd });
    },
  });
  if (opts.gapMs !== undefined) conn.setNoDelay(true);
  for (const [i, p] of pieces.entries()) {
    if (conn.closed) break;
    if (i > 0 && opts.gapMs !== undefined) await sleep(opts.gapMs);
    conn.write(p);
  }
  if (opts.halfClose !== false) conn.end();
  return withTimeout(done, opts.timeoutMs ?? 10_000, "the server to close the connection");
}

/** Every byte of `bytes` as its own piece (one write each). */
export function bytewise(bytes: Uint8Array): Uint8Array[] {
  return Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
}

/** The gap between pieces that makes a trickle really arrive in pieces (see `trickle`). */
export const TRICKLE_GAP_MS = 1;

/**
 * Send `bytes` one byte per write, TRICKLE_GAP_MS apart with Nagle off, so the server
 * really gets them in many reads; returns the exchange and how many reads the server
 * `s` had meanwhile. Keep `bytes` to a few hundred: each byte costs 1 to 3 ms.
 */
export async function trickle(
  s: Running,
  bytes: Uint8Array,
  opts: { halfClose?: boolean; timeoutMs?: number } = {},
): Promise<Talk & { reads: number }> {
  const before = s.reads();
  const r = await talk(s.addr, bytewise(bytes), { ...opts, gapMs: TRICKLE_GAP_MS });
  return { ...r, reads: s.reads() - before };
}

/** A raw client connection with its received bytes, for tests that steer each step. */
export async function openRaw(
  addr: Addr,
): Promise<{ conn: Conn; received: () => Uint8Array; closed: Promise<Error | undefined>; ended: () => boolean }> {
  const t = await transport();
  const chunks: Uint8Array[] = [];
  let ended = false;
  let closedWith!: (e: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((r) => (closedWith = r));
  const conn = await t.connect({ addr }, {
    data: (_c, chunk) => void chunks.push(chunk),
    end: (c) => {
      ended = true;
      c.end(); // answer the server's FIN like an ordinary client
    },
    close: (_c, err) => closedWith(err),
  });
  return { conn, received: () => concat(chunks), closed, ended: () => ended };
}

export interface CliRun {
  code: number;
  stdout: string;
  stdoutBytes: Uint8Array;
  stderr: string;
}

/** Runs the CLI in this process with this runtime's transport and a fake Host. */
export async function cli(
  args: string[],
  opts: { stdin?: Uint8Array | string; files?: Record<string, string> } = {},
): Promise<CliRun> {
  const rt = runtime ?? (runtime = await loadRuntime());
  const out: Uint8Array[] = [];
  let err = "";
  const enc = new TextEncoder();
  const stdin = typeof opts.stdin === "string" ? enc.encode(opts.stdin) : opts.stdin;
  const host: Host = {
    runtime: rt.host.runtime,
    runtimeVersion: rt.host.runtimeVersion,
    platform: rt.host.platform,
    arch: rt.host.arch,
    env: (name) => rt.host.env(name),
    openFileLimit: () => undefined,
    memoryRss: () => undefined,
    exit: () => Promise.reject(new Error("the CLI must not exit the test process")),
    args,
    stdout: {
      isTerminal: () => false,
      write: (d) => Promise.resolve(void out.push(typeof d === "string" ? enc.encode(d) : d.slice())),
    },
    stderr: {
      isTerminal: () => false,
      write: (d) => Promise.resolve(void (err += typeof d === "string" ? d : new TextDecoder().decode(d))),
    },
    async *stdin() {
      if (stdin) { for (let i = 0; i < stdin.length; i += 1000) yield stdin.slice(i, i + 1000); }
    },
    readFile: (path) => {
      const text = opts.files?.[path];
      if (text === undefined) return Promise.reject(new FileError(path, "ENOENT")); // as the real hosts do
      return Promise.resolve(enc.encode(text));
    },
    fileSize: (path) => {
      const text = opts.files?.[path];
      if (text === undefined) return Promise.reject(new Error(`ENOENT: no such file ${path}`));
      return Promise.resolve(enc.encode(text).length);
    },
    onSignal: () => () => {},
  };
  const code = await withTimeout(runCli({ transport: rt.transport, host }), 20_000, `switchboard ${args.join(" ")}`);
  const stdoutBytes = concat(out);
  return { code, stdout: new TextDecoder().decode(stdoutBytes), stdoutBytes, stderr: err };
}

export const text = (s: string) => new TextEncoder().encode(s);
export const str = (b: Uint8Array) => new TextDecoder().decode(b);
