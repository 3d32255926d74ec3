// EMFILE back-off for Bun listeners: on EMFILE Bun retries accept() in a busy loop and
// reports nothing, so the guard detects descriptor exhaustion itself.

import { closeSync, openSync, readFileSync } from "node:fs";
import { parseOpenFileLimit } from "../../src/adapter-kit/fd-limit.ts";
import type { BunSysError } from "./bun-types.ts";
import { liveConnCount } from "./conn.ts";
import { connError, errCode } from "./errors.ts";

let fdLimitCache: number | undefined | null = null;
function fdLimit(): number | undefined {
  if (fdLimitCache === null) {
    try {
      fdLimitCache = parseOpenFileLimit(readFileSync("/proc/self/limits", "utf8"));
    } catch {
      fdLimitCache = undefined;
    }
  }
  return fdLimitCache;
}

/**
 * Can the process open `n` more descriptors at once? Opening them is the only honest
 * test. Returns the EMFILE/ENFILE error when it cannot.
 */
function fdShortage(n: number): BunSysError | undefined {
  const fds: number[] = [];
  try {
    while (fds.length < n) fds.push(openSync("/dev/null", "r"));
    return undefined;
  } catch (err) {
    const code = errCode(err);
    return code === "EMFILE" || code === "ENFILE" ? (err as BunSysError) : undefined;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/**
 * Bun 1.4.5 retries a failing accept() (EMFILE, ENFILE) in a busy loop and tells no one.
 * The guard notices the process is out of descriptors (after an accept that leaves few,
 * and every 250 ms), closes the listening socket so the loop stops, reports the error,
 * and listens again on the same address once descriptors are free (checking from 50 ms
 * up to every 1 s). While backed off, new connections are refused instead of queued.
 */
export class AcceptGuard {
  #timer: ReturnType<typeof setInterval> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #delay = 50;
  #stopped = false;

  constructor(
    private readonly pauseListening: () => void,
    private readonly resumeListening: () => void, // throws when it cannot listen
    private readonly onAcceptError: ((err: Error) => void) | undefined,
  ) {
    this.#timer = setInterval(() => this.check(), 250);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** After each accept: cheap unless the process is near its descriptor limit. */
  afterAccept(): void {
    const limit = fdLimit();
    if (limit !== undefined && liveConnCount() + 64 >= limit) this.check();
  }

  /** Out of descriptors: Bun's accept loop would spin now (or at the next connection). */
  check(): void {
    if (this.#stopped || this.#retry !== undefined) return;
    const err = fdShortage(1);
    if (!err) return;
    this.pauseListening();
    this.#report(connError(err));
    this.#delay = 50;
    this.#scheduleRetry();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  #scheduleRetry(): void {
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#stopped) return;
      // Room for the listening socket itself plus at least one accepted connection;
      // with only the former, listening again would start the busy loop at once.
      if (!fdShortage(2)) {
        try {
          this.resumeListening();
          return;
        } catch (err) {
          this.#report(connError(err));
        }
      }
      this.#delay = Math.min(this.#delay * 2, 1000);
      this.#scheduleRetry();
    }, this.#delay); // not unref'd: a backed-off listener must keep the process alive
  }

  #report(err: Error): void {
    try {
      this.onAcceptError?.(err);
    } catch {
      // a throwing callback must not stop the listener
    }
  }
}
