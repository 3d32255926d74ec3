// switchboard as a library: a TCP service written only against the public entry point.
import { beforeAll, expect, test } from "vitest";
import * as sb from "../../src/index.ts";
import { loadRuntime } from "../support/runtime.ts";
import { exchange } from "../support/sockets.ts";

let transport: sb.Transport;
beforeAll(async () => {
  transport = (await loadRuntime()).transport;
});

test("a custom line service built from the public API: Server + codec + Session", async () => {
  // Upper-cases each line: the shape of a user's own framed service.
  const upper: sb.Service = {
    name: "upper",
    open(ctx) {
      const reader = new sb.FrameReader(sb.delimited({ maxLength: ctx.options.maxFrame }));
      const codec = sb.delimited();
      const reply = (frames: Uint8Array[]) => {
        for (const f of frames) {
          codec.encode(new TextEncoder().encode(new TextDecoder().decode(f).toUpperCase()), (b) => void ctx.write(b));
        }
      };
      return {
        data: (chunk) => reply(reader.push(chunk)),
        end: () => {
          reply(reader.end());
          ctx.end();
        },
        midFrame: () => reader.buffered > 0,
      };
    },
  };
  const server = new sb.Server({ transport, service: upper, options: { idleMs: 5000 } });
  const l = await server.listen(sb.parseAddr("127.0.0.1:0"));
  const r = await exchange(transport, l.addr, new TextEncoder().encode("hello\nswitch"), { writeSize: 3 });
  expect(new TextDecoder().decode(r.received)).toBe("HELLO\nSWITCH\n");
  await server.shutdown();
  expect(server.connections).toBe(0);
});

test("AppClient: a request the encoder rejects fails alone and leaves nothing to reject later", async () => {
  const server = new sb.Server({ transport, service: sb.appService() });
  const l = await server.listen(sb.parseAddr("127.0.0.1:0"));
  const client = await sb.AppClient.connect(transport, l.addr);
  const huge = sb.makeHeader("x".repeat(70_000), "binary", 1);
  await expect(client.request({ header: huge, content: new Uint8Array(1) })).rejects.toThrow();
  expect(client.outstanding).toBe(0);
  // The connection still works for a good request, and closing leaves no orphan waiter
  // (an unhandled rejection would fail this test run).
  const json = new TextEncoder().encode(JSON.stringify({ action: "search", value: "ring" }));
  const reply = await client.request({ header: sb.makeHeader("text/json", "utf-8", json.length), content: json });
  expect(new TextDecoder().decode(reply.content)).toMatch(/Misty Mountains/);
  client.close();
  await client.closed;
  await server.shutdown();
});
