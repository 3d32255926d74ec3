// runBench in-process on this runtime's own Transport (real loopback sockets), against the
// server core serving the real services: every mode completes with every reply verified.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { appService, echoService, framedEchoService, Server, silentLogger } from "../../../src/index.ts";
import { type BenchConfig, runBench } from "../../../src/bench/run.ts";
import type { Addr, Transport } from "../../../src/transport.ts";
import { loadRuntime } from "../../support/runtime.ts";

const LOOPBACK: Addr = { transport: "tcp", hostname: "127.0.0.1", port: 0 };

describe("runBench over this runtime's transport", () => {
  let transport: Transport;
  const servers: Server[] = [];
  const addrs: Record<string, Addr> = {};
  beforeAll(async () => {
    transport = (await loadRuntime()).transport;
    for (
      const [name, service] of [["echo", echoService], ["lp", framedEchoService("lp:u32")], [
        "app",
        appService(),
      ]] as const
    ) {
      const server = new Server({ transport, service, log: silentLogger });
      servers.push(server);
      addrs[name] = (await server.listen(LOOPBACK)).addr;
    }
  });
  afterAll(async () => {
    for (const s of servers) await s.shutdown();
  });

  const config = (over: Partial<BenchConfig>): BenchConfig => ({
    mode: "echo",
    addr: addrs.echo!,
    connections: 3,
    durationMs: 200,
    warmupMs: 0,
    size: 64,
    newConn: false,
    connectTimeoutMs: 5000,
    waitMs: 5000,
    maxReply: 1 << 20,
    ...over,
  });

  test.each([
    ["echo", {}],
    ["echo, open loop", { rate: 300 }],
    ["connect", { mode: "connect" }],
    ["framed lp:u32", { mode: "framed", framing: "lp:u32", size: 1000 }],
    ["app", { mode: "app" }],
    ["app --new-conn", { mode: "app", newConn: true }],
  ] as [string, Partial<BenchConfig>][])("%s: requests verified, no errors", async (_name, over) => {
    const c = config({
      ...over,
      addr: over.mode === "framed" ? addrs.lp! : over.mode === "app" ? addrs.app! : addrs.echo!,
    });
    const { stats, unsent, scheduled } = await runBench(transport, c);
    expect(stats.errors).toEqual({ connect: 0, reset: 0, timeout: 0, verify: 0, other: 0 });
    expect(stats.requests).toBeGreaterThan(0);
    expect(stats.latency.count).toBe(stats.requests);
    expect(stats.bytesIn).toBeGreaterThan(0);
    if (c.rate !== undefined) {
      // every request that fell due is answered, failed or unsent, exactly once ...
      expect(stats.requests + stats.errorCount + unsent).toBe(scheduled);
      // ... and they fell due at 300 per second from the start of measuring, the first at once
      expect(scheduled).toBeLessThanOrEqual(Math.floor((300 * (stats.endMs - stats.startMs)) / 1000) + 1);
    } else expect(scheduled).toBeUndefined();
  });

  test("stream: every byte comes back before the server's FIN", async () => {
    const { stats } = await runBench(transport, config({ mode: "stream", size: 16 * 1024 }));
    expect(stats.errorCount).toBe(0);
    expect(stats.bytesOut).toBeGreaterThan(0);
    expect(stats.bytesIn).toBe(stats.bytesOut);
    expect(stats.requests).toBe(stats.bytesOut / (16 * 1024)); // every chunk's echo completed
  });

  test("hold: every connection is still open at the end", async () => {
    const { stats, held } = await runBench(transport, config({ mode: "hold", connections: 5 }));
    expect(held).toEqual({ opened: 5, alive: 5 });
    expect(stats.errorCount).toBe(0);
  });
});
