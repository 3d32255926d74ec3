// The in-memory transport as a user's test would use it: a real server core serving a
// real service, a client over the same in-memory network, no sockets. (The transport's
// contract is proven by test/conformance/memory.test.ts.)
import { expect, test } from "vitest";
import {
  echoService,
  FramedClient,
  framedEchoService,
  framedService,
  memoryTransport,
  Server,
  serveWith,
  silentLogger,
  textLines,
} from "../../src/index.ts";
import { concat, exchange, pattern, sameBytes } from "../support/sockets.ts";

test("a server core serves echo over the in-memory transport, and shuts down", async () => {
  const transport = memoryTransport();
  const server = new Server({ transport, service: echoService, log: silentLogger });
  const listener = await server.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
  const payload = pattern(3 * 1024 * 1024, 5);
  const r = await exchange(transport, listener.addr, payload, { writeSize: 10_000 });
  expect(r.error).toBeUndefined();
  expect(r.gotEnd).toBe(true);
  expect(sameBytes(r.received, payload)).toBe(true);
  await server.shutdown();
  expect(server.stats().connections).toBe(0);
});

test("framed echo over the in-memory transport answers each frame", async () => {
  const transport = memoryTransport();
  const server = new Server({ transport, service: framedEchoService("lp:u32"), log: silentLogger });
  const { addr } = await server.listen({ transport: "unix", path: "/nowhere/at/all.sock" });
  const frame = (s: string) => {
    const body = new TextEncoder().encode(s);
    const out = new Uint8Array(4 + body.length);
    new DataView(out.buffer).setUint32(0, body.length);
    out.set(body, 4);
    return out;
  };
  const sent = concat([frame("one"), frame("two"), frame("")]);
  const r = await exchange(transport, addr, sent, { writeSize: 3 });
  expect(r.error).toBeUndefined();
  expect(sameBytes(r.received, sent)).toBe(true);
  await server.shutdown();
});

test("two in-memory networks are apart: a port bound in one is refused in the other", async () => {
  const a = memoryTransport();
  const b = memoryTransport();
  const listener = await a.listen({ addr: { transport: "tcp", hostname: "127.0.0.1", port: 0 } }, { data() {} });
  await expect(b.connect({ addr: listener.addr }, { data() {} })).rejects.toMatchObject({ code: "ECONNREFUSED" });
  await listener.close();
});

test("docs/library.md's recipe: serveWith on memoryTransport() and a FramedClient on the same network", async () => {
  const transport = memoryTransport();
  const uppercase = framedService({
    name: "uppercase",
    decoder: (ctx) => textLines({ maxLength: ctx.options.maxFrame }),
    handle: (line: string) => line.toUpperCase(),
  });
  const handle = await serveWith({ transport }, { listen: "127.0.0.1:0", service: uppercase, log: silentLogger });
  const client = await FramedClient.connect<string, string>(transport, handle.addrs[0]!, { codec: textLines() });
  await client.send("hello");
  await client.send("world");
  client.end();
  const got: string[] = [];
  for await (const line of client) got.push(line);
  expect(got).toEqual(["HELLO", "WORLD"]);
  await handle.shutdown();
  expect(handle.server.stats().connections).toBe(0);
});
