// The accept loop of one Deno listener: hands every accepted connection over, skips
// errors that concern only one queued peer, and backs off on resource errors (EMFILE,
// ...) instead of spinning.

import type { DenoConn, DenoListener } from "./deno-types.ts";
import { connError, withCode } from "./errors.ts";

/** Back-off after a resource error from accept (EMFILE, ...): starts here, doubles, capped. */
const ACCEPT_BACKOFF_MIN_MS = 50;
const ACCEPT_BACKOFF_MAX_MS = 100;
/**
 * accept() errors that concern only the one queued connection, which is gone with it;
 * the listener is fine, so accept again at once. Deno reports a peer that reset while
 * waiting in the accept queue as ENOTCONN.
 */
const PEER_ACCEPT_ERRORS = new Set([
  "ECONNABORTED",
  "ECONNRESET",
  "ENOTCONN",
  "EPROTO",
  "EPERM",
  "EINTR",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
  "ENONET",
]);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class AcceptLoop {
  readonly #listener: DenoListener;
  #stopped = false;
  #wakeBackoff: (() => void) | undefined;
  readonly #done: Promise<void>;
  #closing: Promise<void> | undefined;

  /** Starts accepting at once; `onConn` must not throw (a throw closes that connection). */
  constructor(
    listener: DenoListener,
    private readonly onConn: (conn: DenoConn) => void,
    private readonly onAcceptError: ((err: Error) => void) | undefined,
  ) {
    this.#listener = listener;
    this.#done = this.#run();
  }

  /**
   * Stop accepting and close the listening socket. The port is released only once the
   * pending accept() has rejected, so this waits for the loop to finish.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopped = true;
      try {
        this.#listener.close(); // rejects the pending accept; Deno removes a unix socket file itself
      } catch {
        // already closed
      }
      this.#wakeBackoff?.();
      await this.#done;
      // The socket is released once the cancelled accept op is dropped: give the
      // event loop a turn so a rebind right after close() succeeds.
      await sleep(0);
    })();
    return this.#closing;
  }

  async #run(): Promise<void> {
    let backoff = ACCEPT_BACKOFF_MIN_MS;
    let peerErrors = 0;
    while (!this.#stopped) {
      let c: DenoConn;
      try {
        c = await this.#listener.accept();
      } catch (err) {
        if (this.#stopped) break;
        const e = withCode(err);
        if (e.name === "BadResource") break; // the listener itself is gone
        if (PEER_ACCEPT_ERRORS.has(e.code!)) {
          // One queued connection died before we took it (the peer reset, ...): it is
          // gone from the backlog, so accept the next one at once, and do not report
          // it (libuv, under Node, skips these silently too). Every so often yield a
          // macrotask, so even a pathological stream of them cannot hog the loop.
          if (++peerErrors % 64 === 0) await sleep(0);
          continue;
        }
        try {
          this.onAcceptError?.(connError(e));
        } catch {
          // a throwing reporter must not stop the listener
        }
        // EMFILE and friends: the pending connection stays in the backlog and accept
        // would fail again at once, so wait before trying again (never spin). The wait
        // stays short so the listener recovers quickly once descriptors free up.
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, backoff);
          this.#wakeBackoff = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.#wakeBackoff = undefined;
        backoff = Math.min(backoff * 2, ACCEPT_BACKOFF_MAX_MS);
        continue;
      }
      backoff = ACCEPT_BACKOFF_MIN_MS;
      peerErrors = 0;
      // A connection the kernel accepted before close() is served like any other.
      try {
        this.onConn(c);
      } catch {
        try {
          c.close();
        } catch {
          // ignore
        }
      }
    }
  }
}
