// A session that ends its side (ctx.end()) while the core has paused reading for a full
// write buffer: no drain follows an end() (the Transport contract), so the core itself must
// resume reading, or the peer's FIN is never read and the connection waits out the linger
// deadline. Runs on this runtime's adapter and on the in-memory transport.
import { beforeAll, describe, expect, test } from "vitest";
import { Server } from "../../src/server/server.ts";
import type { Service } from "../../src/server/service.ts";
import { memoryTransport } from "../../src/testing/memory-transport.ts";
import type { Transport } from "../../src/transport.ts";
import { loadRuntime } from "../support/runtime.ts";
import { LOOPBACK, pattern, waitFor } from "../support/sockets.ts";

let real: Transport;
beforeAll(async () => {
  real = (await loadRuntime()).transport;
});

const reply = pattern(8 * 1024 * 1024, 71); // far over the write buffer: reading pauses

/** Sends one big reply and ends at once, before the peer's FIN. */
const endsEarly: Service = {
  name: "ends-early",
  open(ctx) {
    ctx.write(reply);
    ctx.end();
    return { data: () => {}, end: () => {} };
  },
};

describe.each([["real sockets", () => real], ["the in-memory transport", () => memoryTransport()]])(
  "a session that ends early, over %s",
  (_name, transportOf) => {
    test("the peer's FIN is still read and the connection closes cleanly", async () => {
      const t = transportOf();
      const server = new Server({ transport: t, service: endsEarly, options: { lingerMs: 60_000 } });
      const { addr } = await server.listen(LOOPBACK);
      try {
        let received = 0;
        let closed = false;
        await t.connect({ addr }, {
          data: (_c, b) => void (received += b.length),
          end: (c) => c.end(), // our FIN only after the whole reply and the server's FIN
          close: () => void (closed = true),
        });
        await waitFor(() => closed, "the client to close", 20_000);
        expect(received).toBe(reply.length);
        await waitFor(() => server.connections === 0, "the server connection to close after the peer's FIN", 20_000);
        expect(server.counters.get("linger-timeout") ?? 0).toBe(0);
      } finally {
        await server.shutdown();
      }
    });
  },
);
