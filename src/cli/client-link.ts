// Connection plumbing shared by the client commands: a connected Conn whose writes can
// be awaited (backpressure), a deadline on silence (--wait), a stdout that pauses the
// socket while it lags, and the one "cannot connect" line.

import type { TlsClientOptions } from "../tls.ts";
import { formatAddr } from "../addr.ts";
import type { Host } from "../host.ts";
import { SilenceError, SilenceTimer } from "../silence.ts";
import { type Addr, type Conn, ConnectError, type ConnHandler, type Transport } from "../transport.ts";

/** Pause reading from the socket while this many stdout writes are outstanding. */
const MAX_PENDING_OUTPUT = 16;

/** Why a client connection failed, in the words of its one stderr line. */
export function failure(err: Error): string {
  if (err instanceof SilenceError) return `${err.message} (--wait); giving up`;
  if (err instanceof StoppedError) return err.message;
  return `connection failed: ${err.message}`;
}

/** The Ctrl-C (or another stop request) ended the connection. */
export class StoppedError extends Error {
  override name = "StoppedError";
}

export interface LinkOptions {
  /** Give up connecting after this long; 0 leaves it to the OS. */
  timeoutMs: number;
  /** End the connection after this long without a byte either way; 0 waits forever. */
  waitMs: number;
  /** Speak TLS (--tls and friends: tls-flags.ts). */
  tls?: TlsClientOptions;
}

export interface Link {
  conn: Conn;
  /** Resolves when `bytes` is queued and the queue is below the high-water mark. */
  write(bytes: Uint8Array): Promise<void>;
  /** Resolves on close: the error (a SilenceError when --wait ended it), or undefined. */
  closed: Promise<Error | undefined>;
  /** End the connection now (reset), reporting `err` as the reason. */
  abort(err: Error): void;
}

/** Connects with a handler for incoming bytes; the link tracks drain, close and silence. */
export async function connect(
  transport: Transport,
  addr: Addr,
  opts: LinkOptions,
  on: {
    data(c: Conn, chunk: Uint8Array): void;
    end?(c: Conn): void;
    /** True while the quiet is ours (e.g. stdout lags): the silence clock stands still. */
    busy?(): boolean;
  },
): Promise<Link> {
  let drained: (() => void) | undefined;
  let closedWith!: (err: Error | undefined) => void;
  let reason: Error | undefined;
  const closed = new Promise<Error | undefined>((resolve) => (closedWith = resolve));
  const abort = (err: Error) => {
    reason ??= err;
    conn.close("abort"); // called only once connected (by the timer, or through the Link)
  };
  let isClosed = false;
  let silence: SilenceTimer | undefined; // armed once connected: -t covers connecting
  const handler: ConnHandler = {
    data: (c, chunk) => {
      silence?.touch();
      on.data(c, chunk);
    },
    // The server is done sending; our side ends once all input is sent.
    end: on.end ?? (() => {}),
    drain: () => {
      silence?.touch();
      drained?.();
    },
    close: (_c, err) => {
      silence?.stop();
      isClosed = true;
      // A reason of ours (silence, stop) explains the close better than the reset it caused.
      closedWith(reason ?? err);
      drained?.();
    },
  };
  const conn = await transport.connect(
    { addr, timeoutMs: opts.timeoutMs || undefined, ...(opts.tls ? { tls: opts.tls } : {}) },
    handler,
  );
  if (!isClosed) {
    silence = new SilenceTimer(opts.waitMs, () => abort(new SilenceError(opts.waitMs)), {
      progress: () => conn.queued,
      busy: on.busy,
    });
  }
  const write = async (bytes: Uint8Array) => {
    silence?.touch();
    if (!conn.write(bytes) && !conn.closed) await new Promise<void>((r) => (drained = r));
  };
  return { conn, write, closed, abort };
}

/** Stdout for a client: in order, with backpressure onto the socket. */
export interface OutputPipe {
  write(c: Conn, data: Uint8Array | string): void;
  /** Writes are still on their way to stdout. */
  busy(): boolean;
  /** Resolves once every write so far has reached stdout. */
  flushed(): Promise<void>;
}

/** Writes to stdout in order, pausing the socket while stdout lags behind it. */
export function stdoutPipe(host: Host): OutputPipe {
  let pending = 0;
  return {
    write(c: Conn, data: Uint8Array | string) {
      if (++pending >= MAX_PENDING_OUTPUT) c.pause();
      void host.stdout.write(data).then(() => {
        if (--pending === 0) c.resume();
      });
    },
    busy: () => pending > 0,
    async flushed() {
      while (pending > 0) await new Promise((r) => setTimeout(r, 1));
    },
  };
}

export async function connectOrReport(host: Host, addr: Addr, attempt: () => Promise<Link>): Promise<Link | undefined> {
  try {
    return await attempt();
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    await host.stderr.write(`switchboard: cannot connect to ${formatAddr(addr)}: ${err.reason}\n`);
    return undefined;
  }
}
