// The server core's start-up and connection lines, in-process on this runtime's adapter:
// listenAll binds every address or none, and debug lines cost nothing unless enabled.
import { beforeAll, describe, expect, test } from "vitest";
import { createLogger, type LogLevel } from "../../src/log.ts";
import { Server } from "../../src/server/server.ts";
import { echoService } from "../../src/services/echo.ts";
import type { Addr, Transport } from "../../src/transport.ts";
import { loadRuntime } from "../support/runtime.ts";
import { exchange, LOOPBACK, waitFor } from "../support/sockets.ts";

let t: Transport;
beforeAll(async () => {
  t = (await loadRuntime()).transport;
});

function memoryLogger(level: LogLevel) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ write: (s) => Promise.resolve(void lines.push(JSON.parse(String(s)))) }, "json", level);
  return { log, lines };
}

const port = (a: Addr) => (a.transport === "tcp" ? a.port : -1);

describe("listenAll", () => {
  test("one address that cannot be bound: the ones bound before it are released, the error is rethrown", async () => {
    const busy = await t.listen({ addr: LOOPBACK }, { data() {} });
    const server = new Server({ transport: t, service: echoService });
    // A fixed free port, so that "released" can be checked by binding it again.
    const probe = await t.listen({ addr: LOOPBACK }, { data() {} });
    const free: Addr = { transport: "tcp", hostname: "127.0.0.1", port: port(probe.addr) };
    await probe.close();
    await expect(server.listenAll([free, busy.addr])).rejects.toThrow(/cannot listen on .*EADDRINUSE|in use/i);
    expect(server.listeners).toEqual([]);
    const again = await t.listen({ addr: free }, { data() {} }); // throws if the first bind were still held
    expect(port(again.addr)).toBe(port(free));
    await Promise.all([again.close(), busy.close(), server.shutdown()]);
  });

  test("every address bound: all listeners returned, in order", async () => {
    const server = new Server({ transport: t, service: echoService });
    const ls = await server.listenAll([LOOPBACK, LOOPBACK]);
    expect(ls).toHaveLength(2);
    expect(server.listeners).toEqual(ls);
    expect(port(ls[0]!.addr)).not.toBe(port(ls[1]!.addr));
    await server.shutdown();
  });
});

describe("connection lines", () => {
  test("at debug: conn-open and conn-close with peer, duration, bytes each way and the reason", async () => {
    const { log, lines } = memoryLogger("debug");
    const server = new Server({ transport: t, service: echoService, log });
    const [l] = await server.listenAll([LOOPBACK]);
    const payload = new TextEncoder().encode("hello, debug\n");
    const r = await exchange(t, l!.addr, payload);
    expect(r.received.length).toBe(payload.length);
    await waitFor(() => lines.some((x) => x.msg === "conn-close"), "a conn-close line");
    const open = lines.find((x) => x.msg === "conn-open")!;
    const close = lines.find((x) => x.msg === "conn-close")!;
    expect(open).toMatchObject({ level: "debug", local: `127.0.0.1:${port(l!.addr)}` });
    expect(open.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(close).toMatchObject({
      level: "debug",
      peer: open.peer,
      conn: open.conn,
      bytes_in: payload.length,
      bytes_out: payload.length,
      reason: "peer-closed",
    });
    expect(close.duration_ms).toBeGreaterThanOrEqual(0);
    await server.shutdown();
  });

  test("connection lines keep a per-second budget; the rest are counted on a summary line", async () => {
    const { log, lines } = memoryLogger("debug");
    const server = new Server({ transport: t, service: echoService, log, connLinesPerSecond: 2 });
    const [l] = await server.listenAll([LOOPBACK]);
    for (let i = 0; i < 10; i++) await exchange(t, l!.addr, new TextEncoder().encode("x"));
    await waitFor(() => server.stats().accepted === 10 && server.connections === 0, "ten connections to close");
    const written = () => lines.filter((x) => String(x.msg).startsWith("conn-")).length;
    const suppressed = () =>
      lines.filter((x) => x.msg === "connection lines not logged (rate limit)")
        .reduce((n, x) => n + Number(x.suppressed), 0);
    // 20 lines wanted: each is written or counted; the sweep reports a window's count once it is over.
    await waitFor(() => written() + suppressed() === 20, "every line written or counted as suppressed");
    // Two a second: only if the ten exchanges took ten seconds could they all be written.
    expect(suppressed()).toBeGreaterThan(0);
    await server.shutdown();
  });

  test("at info: no connection lines, and the server builds none (no line budget exists)", async () => {
    const { log, lines } = memoryLogger("info");
    const server = new Server({ transport: t, service: echoService, log });
    expect(server.connLines).toBeUndefined();
    const [l] = await server.listenAll([LOOPBACK]);
    await exchange(t, l!.addr, new TextEncoder().encode("x"));
    await waitFor(() => server.stats().accepted === 1 && server.connections === 0, "the connection to close");
    expect(lines.filter((x) => String(x.msg).startsWith("conn-"))).toEqual([]);
    await server.shutdown();
  });
});
