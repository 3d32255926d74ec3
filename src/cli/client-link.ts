// Connection plumbing shared by the client commands: a connected Conn whose writes can
// be awaited (backpressure), a stdout that pauses the socket while it lags, and the one
// "cannot connect" line.

import { formatAddr } from "../addr.ts";
import type { Host } from "../host.ts";
import { type Addr, type Conn, ConnectError, type ConnHandler, type Transport } from "../transport.ts";

/** Pause reading from the socket while this many stdout writes are outstanding. */
const MAX_PENDING_OUTPUT = 16;

export interface Link {
  conn: Conn;
  /** Resolves when `bytes` is queued and the queue is below the high-water mark. */
  write(bytes: Uint8Array): Promise<void>;
  closed: Promise<Error | undefined>;
}

/** Connects with a handler for incoming bytes; the link tracks drain and close. */
export async function connect(
  transport: Transport,
  addr: Addr,
  timeoutMs: number,
  on: { data(c: Conn, chunk: Uint8Array): void; end?(c: Conn): void },
): Promise<Link> {
  let drained: (() => void) | undefined;
  let closedWith!: (err: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((resolve) => (closedWith = resolve));
  const handler: ConnHandler = {
    data: on.data,
    // The server is done sending; our side ends once all input is sent.
    end: on.end ?? (() => {}),
    drain: () => drained?.(),
    close: (_c, err) => {
      closedWith(err);
      drained?.();
    },
  };
  const conn = await transport.connect({ addr, timeoutMs: timeoutMs || undefined }, handler);
  const write = async (bytes: Uint8Array) => {
    if (!conn.write(bytes) && !conn.closed) await new Promise<void>((r) => (drained = r));
  };
  return { conn, write, closed };
}

/** Stdout for a client: in order, with backpressure onto the socket. */
export interface OutputPipe {
  write(c: Conn, data: Uint8Array | string): void;
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
