// Deliberately broken transports, each with one classic socket bug, used to prove the
// conformance checks can fail.
import type { Conn, ConnHandler, Transport } from "../../src/transport.ts";

/** Wraps every Conn a transport hands out; `patch` changes some of its methods. */
function wrapTransport(
  inner: Transport,
  patch: (conn: Conn) => Partial<Conn>,
  handlerPatch?: (h: ConnHandler) => ConnHandler,
): Transport {
  const wrapped = new WeakMap<Conn, Conn>();
  const wrap = (c: Conn): Conn => {
    let w = wrapped.get(c);
    if (!w) {
      const overrides = patch(c);
      w = new Proxy(c, {
        get(target, prop) {
          if (prop in overrides) return (overrides as Record<string | symbol, unknown>)[prop];
          const v = Reflect.get(target, prop, target);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
      wrapped.set(c, w);
    }
    return w;
  };
  const wrapHandler = (h0: ConnHandler): ConnHandler => {
    const h = handlerPatch ? handlerPatch(h0) : h0;
    return {
      open: h.open && ((c) => h.open!(wrap(c))),
      data: (c, b) => h.data(wrap(c), b),
      end: h.end && ((c) => h.end!(wrap(c))),
      drain: h.drain && ((c) => h.drain!(wrap(c))),
      close: h.close && ((c, e) => h.close!(wrap(c), e)),
    };
  };
  return {
    runtime: inner.runtime,
    listen: (opts, h) => inner.listen(opts, wrapHandler(h)),
    connect: async (opts, h) => wrap(await inner.connect(opts, wrapHandler(h))),
  };
}

/** Writes only what "the kernel took" (first 64 KiB of each buffer) and drops the rest. */
export function dropsPartialWrites(inner: Transport): Transport {
  return wrapTransport(inner, (c) => ({
    write: (bytes: Uint8Array) => c.write(bytes.subarray(0, 64 * 1024)),
  }));
}

/** Treats the peer's FIN as a full close (a socket opened without allowHalfOpen). */
export function closesOnPeerFin(inner: Transport): Transport {
  return wrapTransport(inner, () => ({}), (h) => ({
    ...h,
    end: (c) => c.close("abort"),
  }));
}

/** Ignores pause(): keeps delivering data, so inbound backpressure never happens. */
export function ignoresPause(inner: Transport): Transport {
  return wrapTransport(inner, () => ({ pause: () => {} }));
}

/** Never reports backpressure: write() always returns true. */
export function neverSignalsBackpressure(inner: Transport): Transport {
  return wrapTransport(inner, (c) => ({
    write: (bytes: Uint8Array) => {
      c.write(bytes);
      return true;
    },
  }));
}

/** Reports no `end` once it has sent its own FIN (Bun turned the peer's FIN into a bare close). */
export function dropsEndAfterOwnFin(inner: Transport): Transport {
  const finSent = new Set<number>();
  return wrapTransport(inner, (c) => ({
    end: () => {
      finSent.add(c.id);
      c.end();
    },
  }), (h) => ({
    ...h,
    end: h.end && ((c) => {
      if (!finSent.has(c.id)) h.end!(c);
    }),
  }));
}

/** Loses the error of an abnormal close: a reset looks like a clean close. */
export function losesCloseErrors(inner: Transport): Transport {
  return wrapTransport(inner, () => ({}), (h) => ({
    ...h,
    close: h.close && ((c) => h.close!(c)),
  }));
}

/** Throws from write() once the connection is closed, instead of ignoring the write. */
export function throwsOnWriteAfterClose(inner: Transport): Transport {
  return wrapTransport(inner, (c) => ({
    write: (bytes: Uint8Array) => {
      if (c.closed) throw new Error("write after close (EPIPE)");
      return c.write(bytes);
    },
  }));
}

/** The classic `opts.highWaterMark || DEFAULT`: a highWaterMark of 0 becomes the default. */
export function ignoresZeroHighWaterMark(inner: Transport): Transport {
  return {
    runtime: inner.runtime,
    listen: (opts, h) => inner.listen({ ...opts, highWaterMark: opts.highWaterMark || undefined }, h),
    connect: (opts, h) => inner.connect({ ...opts, highWaterMark: opts.highWaterMark || undefined }, h),
  };
}

/** Holds data while paused, in user space, but lets the FIN through: `end` overtakes held data. */
export function deliversEndWhilePaused(inner: Transport): Transport {
  interface Held {
    paused: boolean;
    chunks: Uint8Array[];
    deliver?: (chunk: Uint8Array) => void;
  }
  const held = new Map<number, Held>();
  const of = (id: number): Held => {
    let s = held.get(id);
    if (!s) held.set(id, s = { paused: false, chunks: [] });
    return s;
  };
  return wrapTransport(inner, (c) => ({
    pause: () => {
      of(c.id).paused = true;
    },
    resume: () => {
      const s = of(c.id);
      s.paused = false;
      queueMicrotask(() => {
        while (!s.paused && s.chunks.length > 0) s.deliver!(s.chunks.shift()!);
      });
    },
  }), (h) => ({
    ...h,
    data: (c, chunk) => {
      const s = of(c.id);
      s.deliver = (b) => h.data(c, b);
      if (s.paused) s.chunks.push(chunk);
      else h.data(c, chunk);
    },
  }));
}

/** When one server connection closes, aborts every other connection of its listener. */
export function closesNeighboursOnClose(inner: Transport): Transport {
  return {
    runtime: inner.runtime,
    listen: (opts, h) => {
      const live = new Set<Conn>();
      return inner.listen(opts, {
        ...h,
        open: (c) => {
          live.add(c);
          h.open?.(c);
        },
        close: (c, err) => {
          live.delete(c);
          for (const other of [...live]) other.close("abort");
          h.close?.(c, err);
        },
      });
    },
    connect: (opts, h) => inner.connect(opts, h),
  };
}

/** Stops listening once any of its connections closes (an accept loop that exits on the first error). */
export function stopsListeningAfterAClose(inner: Transport): Transport {
  return {
    runtime: inner.runtime,
    listen: async (opts, h) => {
      const listener = await inner.listen(opts, {
        ...h,
        close: (c, err) => {
          void listener.close();
          h.close?.(c, err);
        },
      });
      return listener;
    },
    connect: (opts, h) => inner.connect(opts, h),
  };
}

/** Lets the runtime's own errors through: Node's "connect ECONNREFUSED ..." on connect, Deno's "Broken pipe" on close. */
export function leaksRawErrors(inner: Transport): Transport {
  const raw = (name: string, code: string, message: string) => Object.assign(new Error(message), { name, code });
  return wrapTransport(
    {
      runtime: inner.runtime,
      listen: (opts, h) => inner.listen(opts, h),
      connect: (opts, h) =>
        inner.connect(opts, h).catch((err: { code?: string }) => {
          const a = opts.addr;
          const where = a.transport === "tcp" ? `${a.hostname}:${a.port}` : a.path;
          throw raw("Error", err.code ?? "", `connect ${err.code} ${where}`);
        }),
    },
    () => ({}),
    (h) => ({
      ...h,
      close: h.close && ((c, err) => h.close!(c, err && raw("BrokenPipe", "EPIPE", "Broken pipe (os error 32)"))),
    }),
  );
}

/**
 * Fires the drain a write owed before end() once the queue empties, after end() (as Bun did);
 * at the latest just before the close, should the connection close within the poll's millisecond.
 */
export function drainsAfterEnd(inner: Transport): Transport {
  const owed = new Set<number>(); // a write returned false
  const due = new Set<number>(); // ... and end() was called: the faulty drain is to fire
  const open = new Map<number, { conn: Conn; h: ConnHandler }>();
  const fire = (id: number) => {
    if (!due.delete(id)) return;
    const o = open.get(id);
    o?.h.drain?.(o.conn);
  };
  return wrapTransport(inner, (c) => ({
    write: (bytes: Uint8Array) => {
      const ok = c.write(bytes);
      if (!ok) owed.add(c.id);
      return ok;
    },
    end: () => {
      c.end();
      if (!owed.delete(c.id)) return;
      due.add(c.id);
      const timer = setInterval(() => {
        if (c.queued > 0 && !c.closed && due.has(c.id)) return;
        clearInterval(timer);
        if (!c.closed) fire(c.id);
      }, 1);
    },
  }), (h) => ({
    ...h,
    open: (c) => {
      open.set(c.id, { conn: c, h });
      h.open?.(c);
    },
    close: (c, err) => {
      fire(c.id);
      open.delete(c.id);
      h.close?.(c, err);
    },
  }));
}

/** Hands out every chunk as a view at the start of a fresh 256 KiB buffer (a read buffer pinned by its view). */
export function pinsReadBuffers(inner: Transport): Transport {
  return wrapTransport(inner, () => ({}), (h) => ({
    ...h,
    data: (c, b) => {
      const big = new Uint8Array(Math.max(256 * 1024, b.length * 2));
      big.set(b);
      h.data(c, big.subarray(0, b.length));
    },
  }));
}
