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
