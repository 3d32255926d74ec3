// Small socket tools for tests, written only against the Transport contract so the
// same helpers drive every adapter.
import type { Addr, Conn, ConnHandler, Listener, Transport } from "../../src/transport.ts";

export const LOOPBACK: Addr = { transport: "tcp", hostname: "127.0.0.1", port: 0 };

import { concatBytes as concat } from "../../src/bytes.ts";
export { concat };

/** Deterministic, non-repeating-looking bytes so misordered data is detected. */
export function pattern(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolve when `cond()` holds; reject after `timeoutMs` with `what` in the message. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

export interface ServerStats {
  opened: number;
  closed: number;
  closeErrors: Error[];
  ends: number;
}

/**
 * An echo server with the backpressure a real service needs: reading pauses while the
 * write queue is over the high-water mark and resumes on drain; peer FIN → our FIN.
 */
export async function startEchoServer(
  t: Transport,
  addr: Addr = LOOPBACK,
  extra: Partial<ConnHandler> = {},
): Promise<{ listener: Listener; stats: ServerStats }> {
  const stats: ServerStats = { opened: 0, closed: 0, closeErrors: [], ends: 0 };
  const listener = await t.listen({ addr }, {
    open(c) {
      stats.opened++;
      extra.open?.(c);
    },
    data(c, chunk) {
      if (!c.write(chunk)) c.pause();
    },
    drain(c) {
      c.resume();
    },
    end(c) {
      stats.ends++;
      c.end();
    },
    close(c, err) {
      stats.closed++;
      if (err) stats.closeErrors.push(err);
      extra.close?.(c, err);
    },
  });
  return { listener, stats };
}

export interface Exchange {
  received: Uint8Array;
  error?: Error;
  /** True when the peer's FIN arrived (as opposed to a reset or our own close). */
  gotEnd: boolean;
}

/**
 * Connect, send `payload` in writes of `writeSize` (honouring backpressure), half-close,
 * and collect everything until the connection closes.
 *
 * With `gapMs`, the pieces go out `gapMs` apart with Nagle off, so each leaves as its own
 * segment and the server reads them in many reads. Without it, small pieces written back
 * to back share segments (Nagle, the adapter's own batching) and all arrive before the
 * server reads, so it sees one read however small the pieces.
 */
export function exchange(
  t: Transport,
  addr: Addr,
  payload: Uint8Array,
  opts: {
    writeSize?: number;
    gapMs?: number;
    halfClose?: boolean;
    /** Called once all of `payload` is written, before the half-close. */
    onSent?: (c: Conn) => void;
  } = {},
): Promise<Exchange> {
  const chunks: Uint8Array[] = [];
  let gotEnd = false;
  const writeSize = opts.writeSize ?? (payload.length || 1);
  let offset = 0;
  let finished = false;
  const finish = (c: Conn) => {
    if (finished) return; // a late drain
    finished = true;
    opts.onSent?.(c);
    if (opts.halfClose !== false) c.end();
  };
  const pump = (c: Conn) => {
    while (offset < payload.length) {
      const piece = payload.subarray(offset, offset + writeSize);
      offset += piece.length;
      if (!c.write(piece)) return; // wait for drain
    }
    finish(c);
  };
  // Paced, for small pieces: write() queues all of each, so no need to wait for drain.
  const trickle = async (c: Conn, gapMs: number) => {
    c.setNoDelay(true);
    while (offset < payload.length) {
      if (offset > 0) await sleep(gapMs);
      if (c.closed) return;
      const piece = payload.subarray(offset, offset + writeSize);
      offset += piece.length;
      c.write(piece);
    }
    finish(c);
  };
  const gapMs = opts.gapMs;
  return new Promise<Exchange>((resolve, reject) => {
    t.connect({ addr }, {
      data(_c, chunk) {
        chunks.push(chunk);
      },
      drain(c) {
        if (gapMs === undefined) pump(c);
      },
      end(c) {
        gotEnd = true;
        // A client that did not half-close first answers the server's FIN with its own.
        if (opts.halfClose === false) c.end();
      },
      close(_c, error) {
        resolve({ received: concat(chunks), error, gotEnd });
      },
    }).then(async (c) => {
      try {
        if (gapMs === undefined) pump(c);
        else await trickle(c, gapMs);
      } catch (err) {
        c.close("abort"); // e.g. onSent threw
        reject(err);
      }
    }, reject);
  });
}
