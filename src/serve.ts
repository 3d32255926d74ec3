// One-call start-up for library users: listen on one or more addresses with a service,
// get back the bound addresses and a graceful shutdown. Runtime-agnostic: the per-runtime
// entries (`switchboard/node`, `/bun`, `/deno`) call `serveWith` with their Transport and
// the few host services it needs (signals, the open-file limit, stderr for the default log).

import { formatAddr, parseAddr } from "./addr.ts";
import { createLogger, type Logger } from "./log.ts";
import { descriptorsLeft, type Host, type Output } from "./host.ts";
import { OPTION_RANGES, type ServerOptions } from "./server/options.ts";
import { Server } from "./server/server.ts";
import type { Service } from "./server/service.ts";
import { StopSignals } from "./server/stop-signals.ts";
import type { Addr, Transport } from "./transport.ts";

/**
 * What `serve()` takes: where, what, and any server limit or deadline (`ServerOptions`,
 * each with its default when left out: `idleMs` 60 s, `frameMs` 10 s, `writeMs` 30 s,
 * `lingerMs` 5 s, `drainMs` 8 s, `keepAliveMs` 30 s, `maxConns` from the open-file limit,
 * `maxConnsPerIp` and `maxRatePerIp` 0 = none, `maxFrame` and `writeBuffer` 1 MiB,
 * `maxInFlight` 64). A bad value throws a RangeError naming the option.
 */
export interface ServeOptions extends Partial<ServerOptions> {
  /**
   * Where to listen: `"host:port"`, `":port"` (127.0.0.1), `"[v6]:port"`, `"unix:/path"`, an
   * `Addr`, or several of them. Port 0 asks the OS for a free port (see `ServeHandle.addrs`).
   * All or nothing: if one cannot be bound, none is kept and `serve()` rejects.
   */
  listen: string | Addr | readonly (string | Addr)[];
  /** The service each connection runs (e.g. one made with `framedService`). */
  service: Service;
  /**
   * Where log lines go. Default: text lines at level info on the process's stderr (one
   * `listening` line per address, then limit and error events). `silentLogger` for none.
   */
  log?: Logger;
  /** SO_REUSEPORT (Linux; see `Listener.reusePort`). Default false. */
  reusePort?: boolean;
  /**
   * Aborting this signal (an `AbortController`'s) starts the same graceful shutdown as
   * `handle.shutdown()`; one aborted already makes `serve()` reject before listening.
   */
  signal?: AbortSignalLike;
  /**
   * Drain and stop on SIGINT/SIGTERM (a second signal, not a repeat within 0.5 s, cuts every
   * connection). Default false: a library leaves the process's signals alone unless asked.
   */
  handleSignals?: boolean;
}

/** The part of the web-standard `AbortSignal` that `serve()` uses (declared here so no DOM or runtime types are needed). */
export interface AbortSignalLike {
  /** True once aborted. */
  readonly aborted: boolean;
  /** Subscribe to the abort. */
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  /** Unsubscribe (when the server stopped some other way). */
  removeEventListener(type: "abort", listener: () => void): void;
}

/** A running server started by `serve()`. */
export interface ServeHandle {
  /** The bound addresses, in the order given, with the real port where 0 was asked for. */
  readonly addrs: readonly Addr[];
  /** The server itself: `connections`, `stats()`, `options`, `abortAll()`. */
  readonly server: Server;
  /**
   * Graceful drain: stop accepting at once, close idle connections, let in-flight frames
   * finish and flush, cut what is left after `drainMs`. Resolves when every connection is
   * closed. Safe to call more than once.
   */
  shutdown(): Promise<void>;
  /** Resolves once a shutdown (by `shutdown()`, the abort signal or a stop signal) has finished. */
  readonly finished: Promise<void>;
}

/** What `serveWith` needs from a runtime besides its Transport (each per-runtime entry supplies it). */
export interface ServeRuntime {
  /** The runtime's sockets. */
  transport: Transport;
  /** Subscribe to a process signal; returns the unsubscribe. Needed only for `handleSignals`. */
  onSignal?(signal: "SIGINT" | "SIGTERM", fn: () => void): () => void;
  /** The descriptors left to open (the open-file limit less those open), for the default `maxConns`. */
  openFileLimit?(): number | undefined;
  /** Where the default logger writes (the process's stderr). Without it the default is silent. */
  stderr?: Output;
}

/** A per-runtime entry's ServeRuntime: its Transport, plus its Host's signals, open-file limit and stderr. */
export function hostRuntime(
  transport: Transport,
  host: Pick<Host, "onSignal" | "openFileLimit" | "openFileCount" | "stderr">,
): ServeRuntime {
  return {
    transport,
    onSignal: (signal, fn) => host.onSignal(signal, fn),
    openFileLimit: () => descriptorsLeft(host),
    stderr: host.stderr,
  };
}

const SERVE_KEYS = new Set(["listen", "service", "log", "reusePort", "signal", "handleSignals"]);

/** `serve()` on any Transport: what the per-runtime `serve` functions call. */
export async function serveWith(runtime: ServeRuntime, options: ServeOptions): Promise<ServeHandle> {
  const { listen, service, reusePort = false, signal, handleSignals = false } = options;
  if (!service || typeof service.open !== "function") throw new TypeError("serve: `service` must be a Service");
  const addrs = (Array.isArray(listen) ? listen : [listen]).map((a: string | Addr) =>
    typeof a === "string" ? parseAddr(a) : a
  );
  if (addrs.length === 0) throw new TypeError("serve: `listen` names no address");
  if (signal?.aborted) throw new Error("serve: the abort signal was aborted before start-up");
  const serverOptions: Partial<ServerOptions> = {};
  for (const [key, value] of Object.entries(options)) {
    if (SERVE_KEYS.has(key)) continue;
    if (!Object.hasOwn(OPTION_RANGES, key)) {
      throw new TypeError(`serve: unknown option "${key}"`); // a misspelt limit must not be ignored
    }
    (serverOptions as Record<string, unknown>)[key] = value;
  }
  const log = options.log ?? (runtime.stderr ? createLogger(runtime.stderr) : undefined);
  const server = new Server({
    transport: runtime.transport,
    service,
    options: serverOptions,
    log,
    openFileLimit: runtime.openFileLimit?.(),
  });
  const listeners = await server.listenAll(addrs, { reusePort });
  for (const l of listeners) {
    server.log.info("listening", {
      addr: formatAddr(l.addr),
      service: service.name,
      runtime: runtime.transport.runtime,
    });
  }

  const unsubscribe: (() => void)[] = [];
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        await server.shutdown();
        const { accepted, refused } = server.stats();
        server.log.info("stopped", { service: service.name, accepted, refused });
      } finally {
        // Nothing of ours keeps the process alive once stopped.
        for (const off of unsubscribe.splice(0)) off();
        finish();
      }
    })();
    return stopping;
  };

  if (handleSignals) {
    if (!runtime.onSignal) throw new TypeError("serve: handleSignals needs a runtime that can subscribe to signals");
    const signals = new StopSignals();
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      unsubscribe.push(runtime.onSignal(sig, () => {
        const action = signals.receive(Date.now());
        if (action === "drain") {
          server.log.info("shutting down", { signal: sig, connections: server.connections });
          void shutdown();
        } else if (action === "abort") {
          server.log.warn("second signal: closing all connections now", { signal: sig });
          server.abortAll();
        }
      }));
    }
  }
  if (signal) {
    const onAbort = () => void shutdown();
    signal.addEventListener("abort", onAbort, { once: true });
    unsubscribe.push(() => signal.removeEventListener("abort", onAbort));
  }
  return { addrs: listeners.map((l) => l.addr), server, shutdown, finished };
}
