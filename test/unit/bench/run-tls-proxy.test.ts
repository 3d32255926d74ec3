// runBench over TLS and with a PROXY header, in-process on this runtime's own Transport
// (real loopback sockets) against the server core: every mode completes with every reply
// verified when the server speaks TLS or wants the header; an untrusted certificate and a
// missing header are errors, never a success.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { echoService, Server, silentLogger } from "../../../src/index.ts";
import { type BenchConfig, type BenchMode, runBench } from "../../../src/bench/run.ts";
import { proxyingTransport } from "../../../src/proxy/client.ts";
import type { Addr, Transport } from "../../../src/transport.ts";
import { makeCerts, readText, removeCerts } from "../../support/certs.ts";
import { loadRuntime } from "../../support/runtime.ts";

const LOOPBACK: Addr = { transport: "tcp", hostname: "127.0.0.1", port: 0 };
const MODES: BenchMode[] = ["echo", "connect", "stream", "hold"];

describe("runBench over TLS and with a PROXY header", () => {
  let transport: Transport;
  let ca: string;
  let tlsAddr: Addr;
  let proxyAddr: Addr;
  const servers: Server[] = [];
  beforeAll(async () => {
    transport = (await loadRuntime()).transport;
    const certs = makeCerts();
    ca = readText(certs.ca);
    const tlsServer = new Server({ transport, service: echoService, log: silentLogger });
    const proxyServer = new Server({ transport, service: echoService, log: silentLogger, proxyProtocol: {} });
    servers.push(tlsServer, proxyServer);
    tlsAddr = (await tlsServer.listen(LOOPBACK, {
      tls: { cert: readText(certs.serverChain), key: readText(certs.serverKey) },
    })).addr;
    proxyAddr = (await proxyServer.listen(LOOPBACK)).addr;
    removeCerts(certs); // read into memory above
  });
  afterAll(async () => {
    for (const s of servers) await s.shutdown();
  });

  const config = (over: Partial<BenchConfig>): BenchConfig => ({
    mode: "echo",
    addr: tlsAddr,
    connections: 3,
    durationMs: 200,
    warmupMs: 0,
    size: over.mode === "stream" ? 16 * 1024 : 64,
    newConn: false,
    connectTimeoutMs: 5000,
    waitMs: 5000,
    maxReply: 1 << 20,
    ...over,
  });

  test.each(MODES)("--tls, %s: every request verified, no errors", async (mode) => {
    const { stats, held } = await runBench(transport, config({ mode, tls: { ca } }));
    expect(stats.errors).toEqual({ connect: 0, reset: 0, timeout: 0, verify: 0, other: 0 });
    expect(stats.requests).toBeGreaterThan(0);
    if (mode === "hold") expect(held).toEqual({ opened: 3, alive: 3 });
    else expect(stats.bytesIn).toBe(stats.bytesOut); // every byte sent came back, decrypted
  });

  test("--tls against a certificate not trusted: connect errors naming it, nothing counted as done", async () => {
    const { stats } = await runBench(transport, config({ tls: {} })); // the runtime's own store
    expect(stats.requests).toBe(0);
    expect(stats.errors.connect).toBeGreaterThan(0);
    expect(stats.errorCount).toBe(stats.errors.connect);
    expect(stats.examples[0]).toMatch(/^connect: cannot connect to 127\.0\.0\.1:\d+: tls: .*not trusted/);
  });

  for (const version of ["v1", "v2"] as const) {
    test.each(MODES)(`--proxy ${version}, %s: the server reads the header, every request verified`, async (mode) => {
      const proxied = proxyingTransport(transport, { version });
      const { stats, held } = await runBench(proxied, config({ mode, addr: proxyAddr }));
      expect(stats.errors).toEqual({ connect: 0, reset: 0, timeout: 0, verify: 0, other: 0 });
      expect(stats.requests).toBeGreaterThan(0);
      if (mode === "hold") expect(held).toEqual({ opened: 3, alive: 3 });
      else expect(stats.bytesIn).toBe(stats.bytesOut);
    });
  }

  test("without the header, a server that wants one fails every request", async () => {
    const { stats } = await runBench(transport, config({ addr: proxyAddr }));
    expect(stats.requests).toBe(0);
    expect(stats.errorCount).toBeGreaterThan(0);
  });
});
