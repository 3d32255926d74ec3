// FramedClient against real sockets (this runtime's adapter) and the in-memory transport:
// frames both ways in order, backpressure on send(), the silence deadline, bad frames,
// half-close.
import { beforeAll, describe, expect, test } from "vitest";
import { FramedClient, FramedClientError } from "../../src/client/framed-client.ts";
import { parseFraming } from "../../src/codec/index.ts";
import { CodecError } from "../../src/codec/errors.ts";
import { Server } from "../../src/server/server.ts";
import { framedEchoService } from "../../src/services/framed-echo.ts";
import { silentLogger } from "../../src/log.ts";
import { SilenceError } from "../../src/silence.ts";
import { memoryTransport } from "../../src/testing/memory-transport.ts";
import type { Addr, Conn, ConnHandler, Transport } from "../../src/transport.ts";
import { loadRuntime } from "../support/runtime.ts";
import { LOOPBACK, pattern, sameBytes, waitFor } from "../support/sockets.ts";

let real: Transport;
beforeAll(async () => {
  real = (await loadRuntime()).transport;
});

const text = (s: string) => new TextEncoder().encode(s);
const lp = (s: string | Uint8Array) => {
  const body = typeof s === "string" ? text(s) : s;
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
};

async function withListener(t: Transport, handler: ConnHandler, body: (addr: Addr) => Promise<void>) {
  const listener = await t.listen({ addr: LOOPBACK }, handler);
  try {
    await body(listener.addr);
  } finally {
    await listener.close();
  }
}

describe.each([["real sockets", () => real], ["the in-memory transport", () => memoryTransport()]])(
  "FramedClient over %s",
  (_name, transportOf) => {
    test("frames go out and come back in order; the stream ends at the server's FIN", async () => {
      const t = transportOf();
      const server = new Server({ transport: t, service: framedEchoService("lp:u32"), log: silentLogger });
      const { addr } = await server.listen(LOOPBACK);
      try {
        const client = await FramedClient.connect(t, addr, { codec: parseFraming("lp:u32") });
        const sent = Array.from({ length: 200 }, (_, i) => pattern(i * 37, i + 1));
        for (const f of sent) await client.send(f);
        client.end();
        const got: Uint8Array[] = [];
        for await (const f of client) got.push(f);
        expect(got.length).toBe(sent.length);
        for (let i = 0; i < sent.length; i++) expect(sameBytes(got[i]!, sent[i]!)).toBe(true);
        expect(await client.closed).toBeUndefined();
        await expect(client.send(text("late"))).rejects.toThrow(FramedClientError);
      } finally {
        await server.shutdown();
      }
    });

    test("send() waits for drain while the server does not read, and resolves once it does", async () => {
      const t = transportOf();
      let server: Conn | undefined;
      let received = 0;
      await withListener(t, {
        open: (c) => void (server = c),
        data(c, b) {
          received += b.length;
          c.pause(); // after the first read: read nothing more until resumed
        },
        end: (c) => c.end(),
      }, async (addr) => {
        const client = await FramedClient.connect(t, addr, { codec: parseFraming("lp:u32", { maxFrame: 64 << 20 }) });
        const big = pattern(32 * 1024 * 1024, 3); // far more than any socket buffers hold
        let settled = false;
        const sending = client.send(big).then(() => void (settled = true));
        await waitFor(() => received > 0, "the server's first read");
        expect(settled).toBe(false); // 32 MiB cannot have left while the server reads nothing
        server!.resume();
        const resumeOnData = setInterval(() => server!.resume(), 1); // it pauses after each read
        try {
          await sending;
          await waitFor(() => received === big.length + 4, "the server to receive the whole frame", 30_000);
        } finally {
          clearInterval(resumeOnData);
        }
        client.close();
        await client.closed;
      });
    });

    test("the silence deadline ends a connection the server keeps quiet", async () => {
      const t = transportOf();
      await withListener(t, { data() {} }, async (addr) => {
        const client = await FramedClient.connect(t, addr, { codec: parseFraming("line"), waitMs: 100 });
        await expect(client.receive()).rejects.toBeInstanceOf(SilenceError);
        expect(await client.closed).toBeInstanceOf(SilenceError);
      });
    });

    test("a frame the codec refuses fails the stream after the good frames before it", async () => {
      const t = transportOf();
      await withListener(t, {
        open(c) {
          c.write(lp("fine"));
          c.write(lp(pattern(1000, 9))); // over the client's maxFrame
        },
        data() {},
      }, async (addr) => {
        const client = await FramedClient.connect(t, addr, { codec: parseFraming("lp:u32", { maxFrame: 100 }) });
        const got: string[] = [];
        const err = await (async () => {
          for await (const f of client) got.push(new TextDecoder().decode(f));
        })().then(() => undefined, (e: unknown) => e);
        expect(got).toEqual(["fine"]);
        expect(err).toBeInstanceOf(FramedClientError);
        expect((err as Error).message).toMatch(/^bad frame from the server: /);
      });
    });

    test("half-close: the server answers after our FIN; unencodable frames are refused before sending", async () => {
      const t = transportOf();
      let bytes = 0;
      await withListener(t, {
        data: (_c, b) => void (bytes += b.length),
        end(c) {
          c.write(lp(`got ${bytes} bytes`));
          c.end();
        },
      }, async (addr) => {
        const client = await FramedClient.connect(t, addr, { codec: parseFraming("lp:u32", { maxFrame: 20 }) });
        await expect(client.send(pattern(21, 1))).rejects.toBeInstanceOf(CodecError);
        await client.send(text("abc"));
        await client.send(text("defgh"));
        client.end();
        expect(new TextDecoder().decode(await client.receive())).toBe("got 16 bytes");
        expect(await client.receive()).toBeUndefined();
        expect(await client.closed).toBeUndefined();
      });
    });
  },
);
