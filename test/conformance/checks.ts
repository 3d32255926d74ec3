// The transport conformance checks: plain async functions that throw on a contract
// violation. conformance.test.ts runs them against this runtime's adapter;
// self-check.test.ts runs some against deliberately broken adapters and expects failure.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Addr, ConnectError, type Conn, DEFAULT_HIGH_WATER_MARK, type Transport } from "../../src/transport.ts";
import {
  concat,
  exchange,
  LOOPBACK,
  pattern,
  sameBytes,
  sleep,
  startEchoServer,
  waitFor,
  withTimeout,
} from "../support/sockets.ts";

export interface CheckContext {
  t: Transport;
  /** Upper bound for any one wait inside a check. */
  timeoutMs: number;
}
export type Check = (ctx: CheckContext) => Promise<void>;

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

function describeMismatch(got: Uint8Array, want: Uint8Array): string {
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  return `received ${got.length} of ${want.length} bytes; first difference at byte ${i}`;
}

async function echoRoundTrip(ctx: CheckContext, addr: Addr, payload: Uint8Array, writeSize?: number) {
  const r = await withTimeout(exchange(ctx.t, addr, payload, { writeSize }), ctx.timeoutMs, `echo of ${payload.length} bytes`);
  assert(!r.error, `echo of ${payload.length} bytes ended with error: ${r.error?.message}`);
  assert(sameBytes(r.received, payload), `echo of ${payload.length} bytes: ${describeMismatch(r.received, payload)}`);
  assert(r.gotEnd, "the server's FIN did not arrive after the echo");
}

async function withEchoServer(ctx: CheckContext, addr: Addr, body: (addr: Addr) => Promise<void>) {
  const { listener, stats } = await startEchoServer(ctx.t, addr);
  try {
    assert(listener.addr.transport !== "tcp" || listener.addr.port > 0, "listener did not report its port");
    await body(listener.addr);
    await waitFor(() => stats.closed === stats.opened, "server connections to close", ctx.timeoutMs);
  } finally {
    await listener.close();
  }
}

/** A listener whose handler is given per test, closed afterwards. */
async function withServer(
  ctx: CheckContext,
  handler: Parameters<Transport["listen"]>[1],
  body: (addr: Addr) => Promise<void>,
) {
  const listener = await ctx.t.listen({ addr: LOOPBACK }, handler);
  try {
    await body(listener.addr);
  } finally {
    await listener.close();
  }
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "sb-conf-"));
}

export const checks: Record<string, Check> = {
  "echoes 0 B, 1 B and 64 KiB intact": async (ctx) => {
    await withEchoServer(ctx, LOOPBACK, async (addr) => {
      for (const size of [0, 1, 64 * 1024]) await echoRoundTrip(ctx, addr, pattern(size, size + 1));
    });
  },

  "echoes a single 32 MiB write intact": async (ctx) => {
    await withEchoServer(ctx, LOOPBACK, async (addr) => {
      await echoRoundTrip(ctx, addr, pattern(32 * 1024 * 1024, 7));
    });
  },

  "keeps many small writes in order": async (ctx) => {
    await withEchoServer(ctx, LOOPBACK, async (addr) => {
      await echoRoundTrip(ctx, addr, pattern(200_000, 3), 7);
    });
  },

  "serves 1,000 concurrent connections, each echoing": async (ctx) => {
    await withEchoServer(ctx, LOOPBACK, async (addr) => {
      const runs = Array.from({ length: 1000 }, (_, i) => echoRoundTrip(ctx, addr, pattern(1024, i + 1)));
      await Promise.all(runs);
    });
  },

  "a client that sends then half-closes still receives the whole reply": async (ctx) => {
    // The server answers only after the client's FIN (the guide's shutdown(1) exchange).
    const reply = pattern(256 * 1024, 11);
    let serverGot = 0;
    await withServer(ctx, {
      data(_c, chunk) {
        serverGot += chunk.length;
      },
      end(c) {
        c.write(reply);
        c.end();
      },
    }, async (addr) => {
      const r = await withTimeout(exchange(ctx.t, addr, pattern(5000, 2)), ctx.timeoutMs, "half-close exchange");
      assert(serverGot === 5000, `server received ${serverGot} of 5000 bytes before FIN`);
      assert(sameBytes(r.received, reply), `reply after half-close: ${describeMismatch(r.received, reply)}`);
      assert(r.gotEnd && !r.error, "reply did not end with a clean FIN");
    });
  },

  "a FIN with no data is seen as end, and the connection closes": async (ctx) => {
    await withEchoServer(ctx, LOOPBACK, async (addr) => {
      await echoRoundTrip(ctx, addr, new Uint8Array(0));
    });
  },

  "a graceful close flushes everything queued before closing": async (ctx) => {
    const payload = pattern(4 * 1024 * 1024, 5);
    await withServer(ctx, {
      open(c) {
        c.write(payload);
        c.close("graceful");
      },
      data() {},
    }, async (addr) => {
      const r = await withTimeout(exchange(ctx.t, addr, new Uint8Array(0), { halfClose: false }), ctx.timeoutMs, "graceful close");
      assert(sameBytes(r.received, payload), `graceful close: ${describeMismatch(r.received, payload)}`);
    });
  },

  "close() reports exactly one close event, last, for every connection": async (ctx) => {
    const events: string[] = [];
    let closes = 0;
    await withServer(ctx, {
      data() {
        events.push("data");
      },
      end(c) {
        events.push("end");
        c.close();
        c.close(); // idempotent
        c.close("abort");
      },
      close() {
        closes++;
        events.push("close");
      },
    }, async (addr) => {
      await withTimeout(exchange(ctx.t, addr, pattern(10, 1)), ctx.timeoutMs, "exchange");
      await waitFor(() => closes > 0, "server close event", ctx.timeoutMs);
      await sleep(50);
      assert(closes === 1, `close fired ${closes} times`);
      assert(events[events.length - 1] === "close", `close was not last: ${events.join(",")}`);
    });
  },

  "a peer that resets mid-transfer closes only that connection": async (ctx) => {
    let serverCloses = 0;
    await withServer(ctx, {
      open(c) {
        // Stream until the peer goes away; a write on a reset socket must not throw.
        const tick = () => {
          if (c.closed) return;
          c.write(pattern(64 * 1024, 9));
          setTimeout(tick, 1);
        };
        tick();
      },
      data() {},
      close() {
        serverCloses++;
      },
    }, async (addr) => {
      let received = 0;
      const clientClosed = new Promise<void>((resolve, reject) => {
        ctx.t.connect({ addr }, {
          data(c, chunk) {
            received += chunk.length;
            if (received > 256 * 1024) c.close("abort");
          },
          close: () => resolve(),
        }).catch(reject);
      });
      await withTimeout(clientClosed, ctx.timeoutMs, "client abort");
      await waitFor(() => serverCloses === 1, "server to see the reset connection close", ctx.timeoutMs);
    });
    // The transport still works afterwards.
    await withEchoServer(ctx, LOOPBACK, (addr) => echoRoundTrip(ctx, addr, pattern(1000, 4)));
  },

  "a peer that never reads sees backpressure and bounded queues, then gets every byte": async (ctx) => {
    const chunk = pattern(64 * 1024, 13);
    // A writer that is never told to stop would write forever: cap it to fail instead.
    const WRITE_CAP = 256 * 1024 * 1024;
    let sent = 0;
    let drains = 0;
    let writing = true;
    let server: Conn | undefined;
    // A real producer: write until told to stop, write more on each drain.
    const fill = (c: Conn) => {
      while (writing && sent < WRITE_CAP) {
        sent += chunk.length; // a write that returns false has still accepted the bytes
        if (!c.write(chunk)) return;
      }
    };
    await withServer(ctx, {
      open(c) {
        server = c;
        fill(c);
      },
      data() {},
      drain(c) {
        drains++;
        fill(c);
      },
    }, async (addr) => {
      let received = 0;
      let client: Conn | undefined;
      const closed = new Promise<void>((resolve, reject) => {
        ctx.t.connect({ addr }, {
          open(c) {
            c.pause(); // never read, for now
          },
          data(_c, b) {
            received += b.length;
          },
          close: () => resolve(),
        }).then((c) => (client = c), reject);
      });
      await waitFor(() => server !== undefined && client !== undefined, "connection", ctx.timeoutMs);
      // Once the kernel buffers on both sides are full, drains must stop for good.
      let lastDrains = -1;
      const settleBy = Date.now() + ctx.timeoutMs;
      while (drains !== lastDrains && sent < WRITE_CAP && Date.now() < settleBy) {
        lastDrains = drains;
        await sleep(300);
      }
      const srv = server!;
      assert(sent < WRITE_CAP, `writer was never told to stop (wrote ${sent} bytes to a peer that reads nothing)`);
      assert(drains === lastDrains, "drain kept firing although the peer read nothing");
      assert(srv.queued > 0, "writer reports nothing queued although the peer reads nothing");
      assert(
        srv.queued <= DEFAULT_HIGH_WATER_MARK + chunk.length,
        `queue grew to ${srv.queued} bytes past the high-water mark (${DEFAULT_HIGH_WATER_MARK}) plus one write`,
      );
      writing = false;
      const drainsBefore = drains;
      client!.resume();
      await waitFor(() => drains > drainsBefore, "drain after the peer started reading", ctx.timeoutMs);
      await waitFor(() => received === sent, `peer to receive all ${sent} bytes (has ${received})`, ctx.timeoutMs);
      srv.close();
      await withTimeout(closed, ctx.timeoutMs, "client close");
    });
  },

  "pause() stops delivery and resume() delivers the rest": async (ctx) => {
    const payload = pattern(2 * 1024 * 1024, 21);
    const got: Uint8Array[] = [];
    let paused = false;
    let deliveredWhilePaused = 0;
    await withServer(ctx, {
      open(c) {
        c.pause();
        paused = true;
        setTimeout(() => {
          paused = false;
          c.resume();
        }, 300);
      },
      data(_c, b) {
        if (paused) deliveredWhilePaused += b.length;
        got.push(b);
      },
      end(c) {
        c.end();
      },
    }, async (addr) => {
      await withTimeout(exchange(ctx.t, addr, payload), ctx.timeoutMs, "paused exchange");
      assert(deliveredWhilePaused === 0, `${deliveredWhilePaused} bytes were delivered while paused`);
      const all = concat(got);
      assert(sameBytes(all, payload), `after resume: ${describeMismatch(all, payload)}`);
    });
  },

  "a handler that throws aborts only its own connection": async (ctx) => {
    await withServer(ctx, {
      data(c, chunk) {
        if (chunk[0] === 0x21) throw new Error("handler bug");
        c.write(chunk);
      },
      end(c) {
        c.end();
      },
    }, async (addr) => {
      const good = exchange(ctx.t, addr, pattern(100_000, 8).map((b) => (b === 0x21 ? 0x22 : b)), { writeSize: 1000 });
      const bad = exchange(ctx.t, addr, new Uint8Array([0x21, 1, 2]));
      const [g, b] = await withTimeout(Promise.all([good, bad]), ctx.timeoutMs, "good and bad clients");
      assert(g.received.length === 100_000 && !g.error, "the well-behaved connection was disturbed");
      assert(b.received.length === 0, "the throwing connection echoed data");
    });
  },

  "reports bound and peer addresses": async (ctx) => {
    let remote: Addr | undefined;
    await withServer(ctx, {
      open(c) {
        remote = c.remote;
      },
      data() {},
    }, async (addr) => {
      assert(addr.transport === "tcp" && addr.port > 0 && addr.hostname === "127.0.0.1", `listener addr ${JSON.stringify(addr)}`);
      await withTimeout(exchange(ctx.t, addr, new Uint8Array(0)), ctx.timeoutMs, "exchange");
      assert(remote!.transport === "tcp" && remote!.hostname === "127.0.0.1" && remote!.port > 0, `remote ${JSON.stringify(remote)}`);
    });
  },

  "serves over IPv6 loopback (::1)": async (ctx) => {
    await withEchoServer(ctx, { transport: "tcp", hostname: "::1", port: 0 }, async (addr) => {
      assert(addr.transport === "tcp" && addr.hostname === "::1", `bound to ${JSON.stringify(addr)}`);
      await echoRoundTrip(ctx, addr, pattern(70_000, 6));
    });
  },

  "serves over a unix socket, replacing a stale socket file": async (ctx) => {
    const dir = tempDir();
    const path = join(dir, "sb.sock");
    try {
      // A crashed run leaves its socket file behind: make one with a process that exits
      // without unlinking it.
      const py = spawnSync("python3", ["-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])", path]);
      assert(py.status === 0 && existsSync(path), "could not create a stale socket file");
      await withEchoServer(ctx, { transport: "unix", path }, async (addr) => {
        assert(addr.transport === "unix" && addr.path === path, `bound to ${JSON.stringify(addr)}`);
        await echoRoundTrip(ctx, addr, pattern(300_000, 12));
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },

  "refuses to replace a unix socket someone is listening on": async (ctx) => {
    const dir = tempDir();
    const path = join(dir, "sb.sock");
    try {
      const first = await ctx.t.listen({ addr: { transport: "unix", path } }, { data() {} });
      try {
        const second = await ctx.t.listen({ addr: { transport: "unix", path } }, { data() {} }).then(
          (l) => l,
          (err: Error) => err,
        );
        if (!(second instanceof Error)) {
          await second.close();
          throw new Error("a second listener took over a live unix socket");
        }
      } finally {
        await first.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },

  "closing a listener frees the port for a new listener": async (ctx) => {
    const first = await startEchoServer(ctx.t);
    const port = (first.listener.addr as { port: number }).port;
    await echoRoundTrip(ctx, first.listener.addr, pattern(10, 1));
    await first.listener.close();
    const again = await startEchoServer(ctx.t, { transport: "tcp", hostname: "127.0.0.1", port });
    try {
      await echoRoundTrip(ctx, again.listener.addr, pattern(10, 2));
    } finally {
      await again.listener.close();
    }
  },

  "a refused connect rejects with ConnectError ECONNREFUSED and fires no events": async (ctx) => {
    const { listener } = await startEchoServer(ctx.t);
    const addr = listener.addr;
    await listener.close();
    let events = 0;
    const err = await ctx.t.connect({ addr }, {
      open: () => void events++,
      data: () => void events++,
      close: () => void events++,
    }).then(() => undefined, (e: unknown) => e);
    assert(err instanceof ConnectError, `expected ConnectError, got ${String(err)}`);
    assert((err as ConnectError).code === "ECONNREFUSED", `code ${(err as ConnectError).code}`);
    await sleep(50);
    assert(events === 0, `${events} handler events fired for a failed connect`);
  },

  "a listen on a busy port rejects with ListenError EADDRINUSE": async (ctx) => {
    const { listener } = await startEchoServer(ctx.t);
    try {
      const err = await ctx.t.listen({ addr: listener.addr }, { data() {} }).then(
        async (l) => {
          await l.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      assert(err !== undefined, "a second listener bound a busy port");
      assert((err as { code?: string }).code === "EADDRINUSE", `code ${(err as { code?: string }).code}`);
    } finally {
      await listener.close();
    }
  },
};
