// Conformance checks for how connections end: half-close (FIN) in either order, graceful
// close, exactly one close event; and the events each must produce. (Resets and throwing
// handlers: checks-failures.ts.)
import type { Conn } from "../../src/transport.ts";
import { assert, type Check, describeMismatch, echoRoundTrip, withEchoServer, withServer } from "./check-kit.ts";
import { exchange, LOOPBACK, pattern, sameBytes, sleep, waitFor, withTimeout } from "../support/sockets.ts";

/** Writes of 4 MiB tried before giving up on reaching the high-water mark (64 MiB in all). */
const MAX_WRITES = 16;

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
    // Both directions are then done, so end() may close the socket outright (Bun does):
    // the reply written just before still goes out whole, and the server sees one clean close.
    const reply = pattern(256 * 1024, 11);
    let serverGot = 0;
    const closes: (Error | undefined)[] = [];
    await withServer(ctx, {
      data(_c, chunk) {
        serverGot += chunk.length;
      },
      end(c) {
        c.write(reply);
        c.end();
      },
      close(_c, err) {
        closes.push(err);
      },
    }, async (addr) => {
      const r = await withTimeout(exchange(ctx.t, addr, pattern(5000, 2)), ctx.timeoutMs, "half-close exchange");
      assert(serverGot === 5000, `server received ${serverGot} of 5000 bytes before FIN`);
      assert(sameBytes(r.received, reply), `reply after half-close: ${describeMismatch(r.received, reply)}`);
      assert(r.gotEnd && !r.error, "reply did not end with a clean FIN");
      await waitFor(() => closes.length > 0, "the server side's close event", ctx.timeoutMs);
      await sleep(20);
      assert(closes.length === 1 && closes[0] === undefined, `server closes: ${closes.map((e) => e?.message)}`);
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

  "after end() no drain fires, and after close() nothing but one close": async (ctx) => {
    // Bun fired `drain` after end() once the queue emptied; Node and Deno did not. Nothing
    // can be written after end()/close(), so no drain is owed; after close() the
    // connection is over for its handler: no data, end or drain, one close.
    const big = pattern(4 * 1024 * 1024, 61);
    for (const how of ["end", "graceful", "abort"] as const) {
      const after: string[] = [];
      let called = false;
      let wroteFalse = false;
      let closes = 0;
      const note = (event: string) => {
        if (called && after[after.length - 1] !== event) after.push(event);
      };
      await withServer(ctx, {
        open(c) {
          // Over the high-water mark, so that a drain would be owed. One write usually gets
          // there, but a loopback socket may take all of it at once: write until it does.
          for (let i = 0; i < MAX_WRITES && !wroteFalse; i++) wroteFalse = !c.write(big);
          if (how === "end") c.end();
          else c.close(how);
          called = true;
        },
        data: () => note("data"),
        end: () => note("end"),
        drain: () => note("drain"),
        close() {
          closes++;
          after.push("close");
        },
      }, async (addr) => {
        await withTimeout(
          new Promise<void>((resolve, reject) => {
            ctx.t.connect({ addr }, {
              open: (c) => void c.write(pattern(1000, 62)),
              data() {},
              end(c) {
                c.write(pattern(1000, 63));
                c.end();
              },
              close: () => resolve(),
            }).catch((err) => (how === "abort" ? resolve() : reject(err))); // an RST may beat the connect
          }),
          ctx.timeoutMs,
          `client of a server that called ${how === "end" ? "end()" : `close("${how}")`} to close`,
        );
        await waitFor(() => closes > 0, "server close event", ctx.timeoutMs);
        await sleep(50); // a late event would land here
      });
      const who = how === "end" ? "after end()" : `after close("${how}")`;
      assert(wroteFalse, `${who}: ${MAX_WRITES} writes of ${big.length} bytes all returned true, so no drain was owed`);
      const seen = after.join(",");
      if (how === "end") {
        assert(!after.includes("drain"), `${who}: events ${seen}, want no drain`);
        assert(closes === 1 && after[after.length - 1] === "close", `${who}: events ${seen}, want one close, last`);
      } else {
        assert(seen === "close", `${who}: events ${seen}, want close`);
      }
    }
  },
};
