// The server core in-process on this runtime's adapter: admission, idle timeout,
// graceful shutdown. (Hostile-peer behaviour is covered by test/reliability.)
import { beforeAll, describe, expect, test } from "vitest";
import { Server } from "../../src/server/server.ts";
import { DEFAULT_DEADLINES, defaultOptions } from "../../src/server/options.ts";
import { chargenService } from "../../src/services/chargen.ts";
import { echoService } from "../../src/services/echo.ts";
import type { Conn, Transport } from "../../src/transport.ts";
import { loadRuntime } from "../support/runtime.ts";
import { exchange, LOOPBACK, pattern, sameBytes, sleep, waitFor } from "../support/sockets.ts";

let t: Transport;
beforeAll(async () => {
  t = (await loadRuntime()).transport;
});

/** Open a well-behaved client (answers FIN with FIN) that records how it was closed. */
async function openClient(addr: Parameters<Transport["connect"]>[0]["addr"]) {
  const state = { closed: false, gotEnd: false, received: 0, conn: undefined as Conn | undefined };
  state.conn = await t.connect({ addr }, {
    data: (_c, b) => void (state.received += b.length),
    end: (c) => {
      state.gotEnd = true;
      c.end();
    },
    close: () => void (state.closed = true),
  });
  return state;
}

describe("server core", () => {
  test("echoes through the core with nothing lost", async () => {
    const server = new Server({ transport: t, service: echoService });
    const l = await server.listen(LOOPBACK);
    const payload = pattern(3 * 1024 * 1024, 5);
    const r = await exchange(t, l.addr, payload, { writeSize: 100_000 });
    expect(sameBytes(r.received, payload)).toBe(true);
    await server.shutdown();
    expect(server.connections).toBe(0);
  });

  test("each session is told this runtime's copyFramesBelow hint (Bun: copies under 1 KiB)", async () => {
    const seen: (number | undefined)[] = [];
    const server = new Server({
      transport: t,
      service: { name: "spy", open: (ctx) => (seen.push(ctx.copyFramesBelow), { data() {}, end: () => ctx.end() }) },
    });
    const l = await server.listen(LOOPBACK);
    await exchange(t, l.addr, new Uint8Array(0));
    await server.shutdown();
    expect(seen).toEqual([t.copyFramesBelow]);
    expect(t.copyFramesBelow).toBe(t.runtime === "bun" ? 1024 : undefined);
  });

  test("max-conns: the connection over the limit is closed at once, the others are served", async () => {
    const server = new Server({ transport: t, service: echoService, options: { maxConns: 2 } });
    const l = await server.listen(LOOPBACK);
    const a = await openClient(l.addr);
    const b = await openClient(l.addr);
    await waitFor(() => server.connections === 2, "two admitted connections");
    // Refused at once: the reset may even beat the connect callback.
    const c = await openClient(l.addr).catch(() => ({ closed: true }));
    await waitFor(() => c.closed, "the third connection to be closed");
    expect(server.counters.get("max-conns")).toBe(1);
    expect(a.closed || b.closed).toBe(false);
    a.conn!.write(new TextEncoder().encode("still served"));
    await waitFor(() => a.received === 12, "echo on an admitted connection");
    await server.shutdown();
    await waitFor(() => a.closed && b.closed, "clients closed by the drain");
  });

  test("TCP keepalive is armed by the sweep once a connection has lived a tenth of the keepalive time", async () => {
    // Every accepted conn's setKeepAlive is recorded with the connection's age at the call.
    const calls: { on: boolean; ms?: number; age: number }[] = [];
    const spying: Transport = {
      ...t,
      listen: (opts, handler) =>
        t.listen(opts, {
          ...handler,
          open(c) {
            const born = Date.now();
            const set = c.setKeepAlive.bind(c);
            c.setKeepAlive = (on, ms) => {
              calls.push({ on, ms, age: Date.now() - born });
              set(on, ms);
            };
            handler.open?.(c);
          },
        }),
    };
    const keepAliveMs = 2_000; // armed from 200 ms of age on
    const server = new Server({ transport: spying, service: echoService, options: { keepAliveMs } });
    const l = await server.listen(LOOPBACK);
    const short = await exchange(t, l.addr, pattern(1000, 1));
    expect(short.received.length).toBe(1000);
    const long = await openClient(l.addr);
    await waitFor(() => calls.length > 0, "keepalive armed on the connection that stays");
    for (const c of calls) {
      expect(c).toMatchObject({ on: true, ms: keepAliveMs });
      expect(c.age).toBeGreaterThanOrEqual(keepAliveMs / 10); // never earlier: a lower bound, not a timing
    }
    long.conn!.close();
    await server.shutdown();
  });

  test("idle timeout closes silent connections and only those", async () => {
    // Pings every 100 ms against a 1 s idle bound: only an event-loop stall of ~900 ms could
    // cut the chatty client. The chatty one is admitted first, so had its pings not counted
    // as activity it would be at least as overdue as the silent one at every sweep.
    const server = new Server({ transport: t, service: echoService, options: { idleMs: 1000 } });
    const l = await server.listen(LOOPBACK);
    const chatty = await openClient(l.addr);
    await waitFor(() => server.connections === 1, "the chatty client admitted");
    let pinging = true;
    const ping = new Uint8Array([1]);
    const pinger = (async () => {
      while (pinging && !chatty.closed) {
        chatty.conn!.write(ping);
        await sleep(100);
      }
    })();
    try {
      const silent = await openClient(l.addr);
      await waitFor(() => silent.gotEnd && silent.closed, "the silent client to be closed by the idle timeout", 30_000);
      expect(server.counters.get("idle-timeout")).toBe(1);
      expect(chatty.gotEnd || chatty.closed).toBe(false);
      // A further idle period of pings: the chatty client still stands.
      const pingsBefore = chatty.received;
      await waitFor(() => chatty.received >= pingsBefore + 12 || chatty.closed, "12 more pings echoed", 30_000);
      expect(chatty.gotEnd || chatty.closed).toBe(false);
      expect(server.counters.get("idle-timeout")).toBe(1);
    } finally {
      pinging = false;
      await pinger;
    }
    await server.shutdown();
  });

  test("traffic in one direction only is activity: a client that only reads is not idle", async () => {
    // chargen writes and never reads; the client never writes. Against a 300 ms idle bound,
    // the client stays connected while it keeps reading for well over three idle periods.
    const server = new Server({ transport: t, service: chargenService, options: { idleMs: 300 } });
    const l = await server.listen(LOOPBACK);
    const reader = await openClient(l.addr);
    await waitFor(() => reader.received > 0, "chargen's first bytes");
    const until = Date.now() + 1200;
    await waitFor(() => Date.now() > until || reader.closed, "1.2 s of reading", 30_000);
    expect(reader.closed, "cut while the server was still sending").toBe(false);
    expect(server.counters.get("idle-timeout")).toBe(0);
    reader.conn!.close("abort");
    await server.shutdown();
  });

  test("the defaults are the design notes' secure defaults", () => {
    // ../shared/DESIGN.md §5, docs/limits.md: changing one must be a decision, not a drift.
    expect(DEFAULT_DEADLINES).toEqual({
      idleMs: 60_000,
      frameMs: 10_000,
      writeMs: 30_000,
      lingerMs: 5_000,
      drainMs: 8_000,
      keepAliveMs: 30_000,
      handshakeMs: 10_000, // issue 11: the TLS handshake deadline
    });
    const o = defaultOptions(1024);
    expect(o.maxFrame).toBe(1024 * 1024);
    expect(o.writeBuffer).toBe(1024 * 1024);
    expect(o.maxConns).toBe(Math.floor(1024 * 0.9) - 32);
    expect(o.maxConnsPerIp).toBe(0);
    expect(o.maxRatePerIp).toBe(0);
    expect(defaultOptions(undefined).maxConns).toBe(4096);
  });

  test("shutdown stops accepting at once and closes idle connections with a FIN", async () => {
    const server = new Server({ transport: t, service: echoService });
    const l = await server.listen(LOOPBACK);
    const idle = await openClient(l.addr);
    await waitFor(() => server.connections === 1, "admitted");
    const done = server.shutdown();
    await waitFor(() => idle.gotEnd, "FIN to the idle client");
    await done;
    expect(server.connections).toBe(0);
    const refused = await t.connect({ addr: l.addr }, { data() {} }).then(
      () => "connected",
      (e: { code?: string }) => e.code,
    );
    expect(refused).toBe("ECONNREFUSED");
  });

  test("a connection still busy when the drain bound passes is cut", async () => {
    const server = new Server({ transport: t, service: echoService, options: { drainMs: 300, writeMs: 0 } });
    const l = await server.listen(LOOPBACK);
    // A client that never reads while the echo of its data fills our write buffer.
    const stuck = await t.connect({ addr: l.addr }, { open: (c) => c.pause(), data() {} });
    const chunk = pattern(256 * 1024, 1);
    for (let i = 0; i < 64; i++) stuck.write(chunk);
    // Busy for good: the echo backed up to the write buffer bound (reading paused), with
    // the kernel's buffers toward the client already full, so nothing of it can leave.
    await waitFor(
      () => [...server.openConnections()].some((v) => v.conn.queued >= server.options.writeBuffer),
      "the echo to back up into our full write buffer",
    );
    await server.shutdown();
    expect(server.counters.get("drain-timeout")).toBe(1);
    stuck.close("abort");
  });
});
