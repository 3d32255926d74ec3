// The preface stage of the server core, in-process on this runtime's adapter over real
// loopback sockets: the header is read (in any pieces), the client's address replaces the
// balancer's everywhere, and every refusal closes only the offending connection.

import { beforeAll, describe, expect, test } from "vitest";
import { Server } from "../../../src/server/server.ts";
import type { Service } from "../../../src/server/service.ts";
import type { Addr, Conn, Transport } from "../../../src/transport.ts";
import { encodeProxyHeader } from "../../../src/proxy/encode.ts";
import { encodeV2 } from "../../../src/proxy/v2.ts";
import { TrustedNets } from "../../../src/proxy/cidr.ts";
import { loadRuntime } from "../../support/runtime.ts";
import { LOOPBACK, waitFor } from "../../support/sockets.ts";

let t: Transport;
beforeAll(async () => {
  t = (await loadRuntime()).transport;
});

const ascii = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const client = (hostname: string, port = 40000): Addr => ({ transport: "tcp", hostname, port });

/** Echo, remembering each session's remote address. */
function recordingEcho(remotes: Addr[]): Service {
  return {
    name: "recording-echo",
    open(ctx) {
      remotes.push(ctx.remote);
      return { data: (chunk) => void ctx.write(chunk), end: () => ctx.end() };
    },
  };
}

async function dial(addr: Addr) {
  const s = { got: "", closed: false, conn: undefined as Conn | undefined };
  s.conn = await t.connect({ addr }, {
    data: (_c, b) => void (s.got += text(b)),
    end: (c) => c.end(),
    close: () => void (s.closed = true),
  });
  return s;
}

async function start(opts: ConstructorParameters<typeof Server>[0]["options"] = {}, trusted?: string[]) {
  const remotes: Addr[] = [];
  const server = new Server({
    transport: t,
    service: recordingEcho(remotes),
    options: opts,
    proxyProtocol: { trusted: trusted ? new TrustedNets(trusted) : undefined },
  });
  const l = await server.listen(LOOPBACK);
  return { server, remotes, addr: l.addr };
}

describe("serve --proxy-protocol: the preface stage", () => {
  for (const version of ["v1", "v2"] as const) {
    test(`${version}: header and data split at every byte boundary reach the service as the client's`, async () => {
      const { server, remotes, addr } = await start();
      const header = encodeProxyHeader(version, client("203.0.113.9", 5555), { ...addr } as Addr);
      const wire = new Uint8Array([...header, ...ascii("hello")]);
      // Every cut of the header (and the first data byte) as two separate writes.
      for (let cut = 1; cut <= header.length + 1; cut += version === "v1" ? 7 : 3) {
        const c = await dial(addr);
        c.conn!.write(wire.slice(0, cut));
        await waitFor(() => server.connections === 1, "the connection held or admitted");
        c.conn!.write(wire.slice(cut));
        await waitFor(() => c.got === "hello", `the echo of the bytes after the header (cut at ${cut})`);
        c.conn!.end();
        await waitFor(() => c.closed && server.connections === 0, "close");
      }
      expect(remotes.length).toBeGreaterThan(3);
      for (const r of remotes) expect(r).toEqual(client("203.0.113.9", 5555));
      await server.shutdown();
    });
  }

  test("v2 LOCAL (a balancer's health check) keeps the socket's own address", async () => {
    const { server, remotes, addr } = await start();
    const c = await dial(addr);
    c.conn!.write(new Uint8Array([...encodeV2(undefined, undefined, { command: "local" }), ...ascii("ok")]));
    await waitFor(() => c.got === "ok", "echo after a LOCAL header");
    expect(remotes[0]).toMatchObject({ transport: "tcp", hostname: "127.0.0.1" });
    expect((remotes[0] as { port: number }).port).toBe((c.conn!.local as { port: number }).port);
    c.conn!.close();
    await server.shutdown();
  });

  test("no valid header: refused with a reason; other connections undisturbed", async () => {
    const { server, addr } = await start();
    const good = await dial(addr);
    good.conn!.write(encodeProxyHeader("v2", client("198.51.100.1"), addr));
    await waitFor(() => server.stats().accepted === 1, "the good connection admitted");
    for (const junk of ["GET / HTTP/1.1\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", "PROXY TCP9\r\n"]) {
      const bad = await dial(addr);
      bad.conn!.write(ascii(junk));
      await waitFor(() => bad.closed, `refusal of ${JSON.stringify(junk)}`);
      expect(bad.got).toBe("");
    }
    expect(server.counters.get("proxy-header")).toBe(3);
    good.conn!.write(ascii("still here"));
    await waitFor(() => good.got === "still here", "the good connection still served");
    good.conn!.close();
    await server.shutdown();
  });

  test("--proxy-trusted: an untrusted source is refused before any byte is read", async () => {
    const { server, addr } = await start({}, ["10.0.0.0/8"]);
    // Refused at accept: the reset may even beat the connect callback.
    const c = await dial(addr).catch(() => ({ closed: true, conn: undefined }));
    c.conn?.write(encodeProxyHeader("v1", client("203.0.113.1"), addr));
    await waitFor(() => c.closed, "refusal of an untrusted source");
    expect(server.counters.get("proxy-untrusted")).toBe(1);
    expect(server.stats().accepted).toBe(0);
    await server.shutdown();
    const ok = await start({}, ["127.0.0.0/8", "::1"]);
    const d = await dial(ok.addr);
    d.conn!.write(new Uint8Array([...encodeProxyHeader("v1", client("203.0.113.1"), ok.addr), ...ascii("x")]));
    await waitFor(() => d.got === "x", "a trusted source served");
    d.conn!.close();
    await ok.server.shutdown();
  });

  test("per-source limits count the header's address, not the balancer's", async () => {
    const { server, addr } = await start({ maxConnsPerIp: 1 });
    const open = async (src: string) => {
      const c = await dial(addr);
      c.conn!.write(new Uint8Array([...encodeProxyHeader("v2", client(src), addr), ...ascii("hi")]));
      return c;
    };
    const a = await open("192.0.2.1");
    await waitFor(() => a.got === "hi", "first client served");
    const b = await open("192.0.2.1");
    await waitFor(() => b.closed, "second connection of the same client refused");
    const c = await open("192.0.2.2");
    await waitFor(() => c.got === "hi", "another client over the same balancer served");
    expect(server.counters.get("max-conns-per-ip")).toBe(1);
    a.conn!.close();
    c.conn!.close();
    await server.shutdown();
  });

  test("the header must arrive within the frame deadline (trickling does not reset it)", async () => {
    const { server, addr } = await start({ frameMs: 300 });
    const c = await dial(addr);
    const header = encodeProxyHeader("v1", client("192.0.2.1"), addr);
    let i = 0;
    // One byte per 50 ms would take far longer than 300 ms: the deadline must cut it first.
    const trickle = setInterval(() => i < header.length && c.conn!.write(header.slice(i, ++i)), 50);
    await waitFor(() => c.closed, "the trickling header cut by the frame deadline");
    clearInterval(trickle);
    expect(i).toBeLessThan(header.length);
    expect(server.counters.get("frame-timeout")).toBe(1);
    await server.shutdown();
  });

  test("failHealthChecks (serve --drain-delay): LOCAL health checks refused, clients still served", async () => {
    const { server, addr } = await start();
    server.failHealthChecks();
    const check = await dial(addr);
    check.conn!.write(new Uint8Array([...encodeV2(undefined, undefined, { command: "local" }), ...ascii("health\n")]));
    await waitFor(() => check.closed, "the health check refused");
    expect(check.got).toBe("");
    const c = await dial(addr);
    c.conn!.write(new Uint8Array([...encodeProxyHeader("v2", client("192.0.2.9"), addr), ...ascii("still")]));
    await waitFor(() => c.got === "still", "a client still served");
    c.conn!.close();
    await server.shutdown();
  });

  test("shutdown closes connections still waiting for their header", async () => {
    const { server, addr } = await start();
    const c = await dial(addr);
    c.conn!.write(ascii("PROXY TCP4 192.0.2.1"));
    await waitFor(() => server.connections === 1, "the connection held");
    await server.shutdown();
    await waitFor(() => c.closed, "the held connection closed by the shutdown");
    expect(server.connections).toBe(0);
  });

  test("without --proxy-protocol a header is just data", async () => {
    const remotes: Addr[] = [];
    const server = new Server({ transport: t, service: recordingEcho(remotes) });
    const l = await server.listen(LOOPBACK);
    const c = await dial(l.addr);
    const header = "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n";
    c.conn!.write(ascii(header));
    await waitFor(() => c.got === header, "the header echoed back as data");
    expect(remotes[0]).toMatchObject({ hostname: "127.0.0.1" });
    c.conn!.close();
    await server.shutdown();
  });
});
