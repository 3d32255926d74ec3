// Conformance checks for how connections end: half-close (FIN) in either order, graceful
// close and abort, resets, throwing handlers; and the events each must produce.
import { spawn } from "node:child_process";
import type { Addr, Conn } from "../../src/transport.ts";
import {
  assert,
  type Check,
  type CheckContext,
  describeMismatch,
  echoRoundTrip,
  withEchoServer,
  withServer,
} from "./check-kit.ts";
import { concat, exchange, LOOPBACK, pattern, sameBytes, sleep, waitFor, withTimeout } from "../support/sockets.ts";

/**
 * A server connection that writes to its peer after `resetPeer` has reset it, until the
 * connection closes. Must end in close(conn, err) with an error; write() must never throw,
 * and returns false once closed. `served` resolves once the server connection is open
 * (it has sent the peer one byte).
 */
async function writeToResetPeer(
  ctx: CheckContext,
  who: string,
  opts: { allowEnd: boolean },
  resetPeer: (addr: Addr, served: Promise<void>) => Promise<void>,
) {
  let server: Conn | undefined;
  let serverClosed = false;
  let serverErr: Error | undefined;
  let ended = false;
  let threw: unknown;
  const chunk = pattern(16 * 1024, 53);
  await withServer(ctx, {
    open(c) {
      server = c;
      c.write(new Uint8Array([0x21]));
    },
    data() {},
    end() {
      ended = true; // stay open for writing
    },
    close(_c, err) {
      serverClosed = true;
      serverErr = err;
    },
  }, async (addr) => {
    await resetPeer(addr, waitFor(() => server !== undefined, "server connection", ctx.timeoutMs));
    await waitFor(() => server !== undefined, "server connection", ctx.timeoutMs);
    const srv = server!;
    const until = Date.now() + ctx.timeoutMs;
    while (!srv.closed && threw === undefined && Date.now() < until) {
      try {
        if (srv.queued < 1024 * 1024) srv.write(chunk);
      } catch (err) {
        threw = err;
      }
      await sleep(1);
    }
    assert(threw === undefined, `${who}: write() threw on a reset connection: ${String(threw)}`);
    await waitFor(() => serverClosed, `${who}: close after writing to the reset peer`, ctx.timeoutMs);
    let after: boolean | undefined;
    try {
      after = srv.write(chunk);
    } catch (err) {
      throw new Error(`${who}: write() after close threw: ${String(err)}`);
    }
    assert(after === false, `${who}: write() after close did not return false`);
  });
  assert(
    serverErr instanceof Error,
    `${who}: writing to it ended in a clean close (no error)${ended ? " after an end" : ""}`,
  );
  assert(opts.allowEnd || !ended, `${who}: the reset was reported as end (a FIN)`);
}

/**
 * A client connection kept open across steps of a check: echo() sends a payload and
 * waits for it to come back whole; finish() half-closes and expects a clean FIN and close.
 */
async function keptOpenClient(ctx: CheckContext, addr: Addr, who: string) {
  let chunks: Uint8Array[] = [];
  let got = 0;
  let gotEnd = false;
  let closed = false;
  let closeErr: Error | undefined;
  const conn = await withTimeout(
    ctx.t.connect({ addr }, {
      data(_c, b) {
        chunks.push(b);
        got += b.length;
      },
      end() {
        gotEnd = true;
      },
      close(_c, err) {
        closed = true;
        closeErr = err;
      },
    }),
    ctx.timeoutMs,
    `${who} to connect`,
  );
  const assertOpen = () =>
    assert(
      !closed && !gotEnd,
      `${who} was ${closed ? `closed (${closeErr?.message ?? "no error"})` : "ended by the server (FIN)"}`,
    );
  return {
    async echo(payload: Uint8Array) {
      assertOpen();
      chunks = [];
      got = 0;
      conn.write(payload);
      await waitFor(
        () => got >= payload.length || closed || gotEnd,
        `${who}: echo of ${payload.length} bytes`,
        ctx.timeoutMs,
      );
      assertOpen();
      const all = concat(chunks);
      assert(sameBytes(all, payload), `${who}: echo of ${payload.length} bytes: ${describeMismatch(all, payload)}`);
    },
    async finish() {
      conn.end();
      await waitFor(() => closed, `${who} to close after its FIN`, ctx.timeoutMs);
      assert(gotEnd && !closeErr, `${who} did not end with a clean FIN: ${closeErr?.message ?? "no end"}`);
    },
  };
}

/** Events of one connection, with runs of `data` folded into one entry. */
function eventLog() {
  const events: string[] = [];
  let error: Error | undefined;
  let bytes = 0;
  let done = false;
  return {
    get done() {
      return done;
    },
    get bytes() {
      return bytes;
    },
    add(_c: Conn, event: "data" | "end", chunk?: Uint8Array) {
      if (chunk) bytes += chunk.length;
      if (events[events.length - 1] !== event || event !== "data") events.push(event);
    },
    closed(_c: Conn, err?: Error) {
      events.push("close");
      error = err;
      done = true;
    },
    expect(who: string, want: string) {
      assert(!error, `${who}: closed with an error: ${error?.message}`);
      assert(events.join(",") === want, `${who}: events ${events.join(",")}, want ${want}`);
    },
  };
}

export const connectionEndChecks: Record<string, Check> = {
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
      const r = await withTimeout(
        exchange(ctx.t, addr, new Uint8Array(0), { halfClose: false }),
        ctx.timeoutMs,
        "graceful close",
      );
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
    // An adapter that tears down the listener, or every connection, on one reset must
    // fail: a second connection is open (and echoing) before the reset and must still
    // echo after it, and the listener must still serve a new connection.
    // Connections are told apart by the order they open: the 2nd is the one reset.
    let opened = 0;
    let resetId: number | undefined;
    const closedIds: number[] = [];
    await withServer(ctx, {
      open(c) {
        if (++opened !== 2) return; // the 1st and 3rd are echoed
        resetId = c.id;
        // Stream until the peer goes away; a write on a reset socket must not throw.
        const tick = () => {
          if (c.closed) return;
          c.write(pattern(64 * 1024, 9));
          setTimeout(tick, 1);
        };
        tick();
      },
      data(c, chunk) {
        if (c.id !== resetId && !c.write(chunk)) c.pause();
      },
      drain(c) {
        c.resume();
      },
      end(c) {
        c.end();
      },
      close(c) {
        closedIds.push(c.id);
      },
    }, async (addr) => {
      const other = await keptOpenClient(ctx, addr, "the other connection");
      await waitFor(() => opened === 1, "server to open the other connection", ctx.timeoutMs);
      await other.echo(pattern(1000, 41));

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
      await waitFor(() => closedIds.includes(resetId!), "server to see the reset connection close", ctx.timeoutMs);

      // The neighbour of the reset connection is untouched, in both directions.
      await other.echo(pattern(100_000, 42));
      assert(
        closedIds.length === 1,
        `the reset closed ${closedIds.length - 1} other server connection(s) on the listener`,
      );
      await other.finish();

      // And the listener still accepts and serves.
      await echoRoundTrip(ctx, addr, pattern(1000, 4)).catch((err: Error) => {
        throw new Error(`the listener did not serve a new connection after the reset: ${err.message}`);
      });
      await waitFor(() => closedIds.length === opened, "server connections to close", ctx.timeoutMs);
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

  "after we half-close first, the peer's FIN still arrives as end, before close": async (ctx) => {
    // Bun reported the peer's FIN as a bare `close` when our own FIN had gone first.
    // Both roles: the client half-closes first, then the server does.
    const hello = pattern(1000, 51);
    const reply = pattern(3000, 52);

    // 1. The client ends first; the server answers its FIN with data and its own FIN.
    const client = eventLog();
    const server1 = eventLog();
    await withServer(ctx, {
      data: (c) => server1.add(c, "data"),
      end(c) {
        server1.add(c, "end");
        c.write(reply);
        c.end();
      },
      close: (c, err) => server1.closed(c, err),
    }, async (addr) => {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          ctx.t.connect({ addr }, {
            open(c) {
              c.write(hello);
              c.end();
            },
            data: (c, b) => client.add(c, "data", b),
            end: (c) => client.add(c, "end"),
            close(c, err) {
              client.closed(c, err);
              resolve();
            },
          }).catch(reject);
        }),
        ctx.timeoutMs,
        "client that half-closed first to close",
      );
      await waitFor(() => server1.done, "server connection to close", ctx.timeoutMs);
    });
    client.expect("client that half-closed first", "data,end,close");
    assert(
      client.bytes === reply.length,
      `client that half-closed first received ${client.bytes} of ${reply.length} bytes`,
    );
    server1.expect("server answering the client's FIN", "data,end,close");

    // 2. The server ends first; the client answers the server's FIN with data and its FIN.
    const server2 = eventLog();
    await withServer(ctx, {
      open(c) {
        c.write(hello);
        c.end();
      },
      data: (c, b) => server2.add(c, "data", b),
      end: (c) => server2.add(c, "end"),
      close: (c, err) => server2.closed(c, err),
    }, async (addr) => {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          ctx.t.connect({ addr }, {
            data() {},
            end(c) {
              c.write(reply);
              c.end();
            },
            close: () => resolve(),
          }).catch(reject);
        }),
        ctx.timeoutMs,
        "client answering the server's FIN to close",
      );
      await waitFor(() => server2.done, "server connection to close", ctx.timeoutMs);
    });
    server2.expect("server that half-closed first", "data,end,close");
    assert(
      server2.bytes === reply.length,
      `server that half-closed first received ${server2.bytes} of ${reply.length} bytes`,
    );
  },

  "writing to a peer that has reset ends in close(conn, err) with an error, and write() never throws": async (ctx) => {
    // Bun's write to a reset connection returned -1 and was followed by a bogus `end` and
    // an error-less close: the reset passed for a clean FIN.
    // 1. The peer is this adapter, closing with close("abort"): an RST, so no `end`.
    //    Except on Deno, which cannot send an RST (see its transport.ts): it sends a FIN,
    //    seen as `end`, and the RST answers our next write. Either way: an error.
    const abortSendsFin = ctx.t.runtime === "deno";
    await writeToResetPeer(ctx, "a peer that closed with abort", { allowEnd: abortSendsFin }, async (addr, served) => {
      let resolveClient!: () => void;
      const clientClosed = new Promise<void>((resolve) => (resolveClient = resolve));
      const client = await ctx.t.connect({ addr }, { data() {}, close: () => resolveClient() });
      await served;
      client.close("abort");
      await withTimeout(clientClosed, ctx.timeoutMs, "client abort");
    });
    // 2. A peer that certainly sends an RST (SO_LINGER 0): there is no FIN, so no `end`.
    await writeToResetPeer(ctx, "a peer that sent an RST", { allowEnd: false }, async (addr) => {
      if (addr.transport !== "tcp") throw new Error("tcp only");
      const script = [
        "import socket, struct, sys",
        "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))",
        "s.recv(1)  # the server is serving us",
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))",
        "s.close()  # linger 0: RST, not FIN",
      ].join("\n");
      const py = spawn("python3", ["-c", script, String(addr.port)], { stdio: "ignore" });
      const code = await withTimeout(
        new Promise<number | null>((resolve, reject) => {
          py.on("error", reject);
          py.on("exit", (c) => resolve(c));
        }),
        ctx.timeoutMs,
        "python peer to reset the connection",
      );
      assert(code === 0, `the python peer failed (exit ${code})`);
    });
  },
};
