// Conformance checks for the data path: bytes arrive intact and in order, and
// backpressure works both ways (write() / drain outbound, pause() / resume() inbound).
import { type Conn, type ConnHandler, DEFAULT_HIGH_WATER_MARK } from "../../src/transport.ts";
import { assert, type Check, describeMismatch, echoRoundTrip, withEchoServer, withServer } from "./check-kit.ts";
import { concat, exchange, LOOPBACK, pattern, sameBytes, sleep, waitFor, withTimeout } from "../support/sockets.ts";

/**
 * A writer for a highWaterMark 0 connection: a small write, then (on drain) a big one,
 * then (on drain) end(). Each write must return false and be followed by one drain.
 */
function zeroHwmWriter(small: Uint8Array, big: Uint8Array) {
  const problems: string[] = [];
  const results: boolean[] = [];
  let drains = 0;
  let closed = false;
  const write = (c: Conn, bytes: Uint8Array) => {
    results.push(c.write(bytes));
    return results[results.length - 1];
  };
  const handler: ConnHandler = {
    open(c) {
      if (write(c, small)) {
        problems.push(`write() of ${small.length} bytes returned true`);
        c.end(); // no drain is owed now: finish instead of hanging
      }
    },
    data() {},
    drain(c) {
      drains++;
      if (c.queued !== 0) problems.push(`drain with ${c.queued} bytes still queued`);
      if (drains === 1) {
        if (write(c, big)) {
          problems.push(`write() of ${big.length} bytes returned true`);
          c.end();
        }
      } else if (drains === 2) {
        c.end();
      }
    },
    close() {
      closed = true;
    },
  };
  return {
    handler,
    get closed() {
      return closed;
    },
    /** What happened so far, for a timeout message. */
    state() {
      return `write() returned ${results.join(", ")}; ${drains} drain events`;
    },
    verify(who: string) {
      assert(problems.length === 0, `${who}: ${problems.join("; ")}`);
      assert(drains === 2, `${who}: ${drains} drain events for 2 writes that returned false`);
    },
  };
}

export const dataFlowChecks: Record<string, Check> = {
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
    // Early round trips could finish before later ones connect, so the server holds back
    // every reply (data and FIN) until all N connections are open at the same time.
    const N = 1000;
    // Every open server connection, with what its peer sent while replies were held.
    const held = new Map<number, { conn: Conn; chunks: Uint8Array[]; ended: boolean }>();
    let opened = 0;
    let open = 0;
    let peak = 0;
    let released = false;
    let gaveUp = false;
    const echo = (c: Conn, chunk: Uint8Array) => {
      if (!c.write(chunk)) c.pause();
    };
    await withServer(ctx, {
      open(c) {
        if (gaveUp) {
          c.close("abort");
          return;
        }
        opened++;
        peak = Math.max(peak, ++open);
        held.set(c.id, { conn: c, chunks: [], ended: false });
        if (open < N || released) return;
        released = true;
        for (const h of held.values()) {
          for (const chunk of h.chunks) echo(h.conn, chunk);
          if (h.ended) h.conn.end();
        }
      },
      data(c, chunk) {
        if (released) echo(c, chunk);
        else held.get(c.id)?.chunks.push(chunk);
      },
      drain(c) {
        c.resume();
      },
      end(c) {
        const h = held.get(c.id);
        if (released) c.end();
        else if (h) h.ended = true;
      },
      close(c) {
        if (held.delete(c.id)) open--;
      },
    }, async (addr) => {
      const runs = Promise.allSettled(
        Array.from({ length: N }, (_, i) => echoRoundTrip(ctx, addr, pattern(1024, i + 1))),
      );
      // Once all N have opened, the peak cannot grow: no need to wait any longer.
      await waitFor(() => peak === N || opened === N, `all ${N} connections to be open`, ctx.timeoutMs).catch(() => {});
      if (peak < N) {
        gaveUp = true; // free the clients still waiting for a reply
        for (const h of held.values()) h.conn.close("abort");
        await runs;
        throw new Error(
          `never had all ${N} connections open at once within ${ctx.timeoutMs} ms: at most ${peak} were (${opened} opened)`,
        );
      }
      for (const r of await runs) if (r.status === "rejected") throw r.reason;
      await waitFor(() => open === 0, "server connections to close", ctx.timeoutMs);
    });
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

  "with highWaterMark 0, write() returns false and drain still fires once the queue empties": async (ctx) => {
    // Listening side first, then connecting side, each with highWaterMark 0.
    const small = pattern(1000, 54);
    const big = pattern(1024 * 1024, 55);
    const total = small.length + big.length;

    const serverWriter = zeroHwmWriter(small, big);
    let clientGot = 0;
    const listener = await ctx.t.listen({ addr: LOOPBACK, highWaterMark: 0 }, serverWriter.handler);
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          ctx.t.connect({ addr: listener.addr }, {
            data(_c, b) {
              clientGot += b.length;
            },
            end: (c) => c.end(),
            close: () => resolve(),
          }).catch(reject);
        }),
        ctx.timeoutMs,
        "exchange with a highWaterMark 0 listener",
      );
      await waitFor(() => serverWriter.closed, "server connection to close", ctx.timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message} (listener with highWaterMark 0: ${serverWriter.state()})`);
    } finally {
      await listener.close();
    }
    serverWriter.verify("listener with highWaterMark 0");
    assert(clientGot === total, `peer of a highWaterMark 0 listener received ${clientGot} of ${total} bytes`);

    const clientWriter = zeroHwmWriter(small, big);
    let serverGot = 0;
    await withServer(ctx, {
      data(_c, b) {
        serverGot += b.length;
      },
      end: (c) => c.end(),
    }, async (addr) => {
      await ctx.t.connect({ addr, highWaterMark: 0 }, clientWriter.handler);
      await waitFor(() => clientWriter.closed, "highWaterMark 0 client to close", ctx.timeoutMs).catch((err: Error) => {
        throw new Error(`${err.message} (connection with highWaterMark 0: ${clientWriter.state()})`);
      });
    });
    clientWriter.verify("connection with highWaterMark 0");
    assert(serverGot === total, `peer of a highWaterMark 0 client received ${serverGot} of ${total} bytes`);
  },

  "data and FIN that arrive while paused are held until resume(), in order": async (ctx) => {
    // Bun can deliver `end` while paused, ahead of data held back: a FIN that arrives while
    // paused must wait for resume() and for every byte before it.
    const payload = pattern(48 * 1024, 56); // fits the receive buffer: all of it, and the FIN, arrive while paused
    const got: Uint8Array[] = [];
    const problems: string[] = [];
    let paused = false;
    let ended = false;
    let server: Conn | undefined;
    let serverClosed = false;
    await withServer(ctx, {
      open(c) {
        server = c;
      },
      data(c, b) {
        if (paused) problems.push(`${b.length} bytes delivered while paused`);
        if (ended) problems.push(`${b.length} bytes delivered after end`);
        got.push(b);
        // Pause again at once: whatever else is already in (more data, the FIN) must wait.
        c.pause();
        paused = true;
        setTimeout(() => {
          paused = false;
          c.resume();
        }, 2);
      },
      end(c) {
        if (paused) problems.push("end delivered while paused");
        const n = concat(got).length;
        if (n !== payload.length) problems.push(`end delivered after ${n} of ${payload.length} bytes`);
        ended = true;
        c.end();
      },
      close() {
        serverClosed = true;
      },
    }, async (addr) => {
      let resolveClient!: () => void;
      const clientClosed = new Promise<void>((resolve) => (resolveClient = resolve));
      const client = await ctx.t.connect({ addr }, { data() {}, close: () => resolveClient() });
      await waitFor(() => server !== undefined, "server connection", ctx.timeoutMs);
      // Pause from outside any handler, with the server's read already waiting (Deno
      // then has a read in flight whose result must be held), and only then send.
      await sleep(10);
      server!.pause();
      paused = true;
      for (let at = 0; at < payload.length; at += 4096) client.write(payload.subarray(at, at + 4096));
      client.end();
      await waitFor(() => client.queued === 0, "client to hand everything to the kernel", ctx.timeoutMs);
      // Loopback delivers at once; the pause gives the server's kernel time to take the
      // data and the FIN. (If it were slower, the check would still hold, only weaker.)
      // The second timer makes the event loop poll for socket input first, even if this
      // process was stalled past the first one (a stall must not hide a broken pause).
      await sleep(100);
      await sleep(20);
      assert(got.length === 0 && !ended, `delivered while paused: ${got.length} data events${ended ? " and end" : ""}`);
      paused = false;
      server!.resume();
      await withTimeout(clientClosed, ctx.timeoutMs, "client close");
      await waitFor(() => serverClosed, "server connection to close", ctx.timeoutMs);
    });
    assert(problems.length === 0, problems.join("; "));
    assert(ended, "end was never delivered");
    const all = concat(got);
    assert(sameBytes(all, payload), `data held while paused: ${describeMismatch(all, payload)}`);
  },
};
