// The Node adapter's read side: node:net keeps reading a paused socket until its readable
// high-water mark is buffered in user memory. It must stay at about one read (64 KiB)
// whatever the write high-water mark (the server's write buffer, 1 MiB by default).
// node:net's buffering is what is tested, so this runs where the Node adapter runs: on Node.
import { expect, test } from "vitest";
import type { Conn } from "../../src/transport.ts";
import { detectRuntime } from "../support/runtime.ts";
import { LOOPBACK, waitFor } from "../support/sockets.ts";

test.runIf(detectRuntime() === "node")(
  "node adapter: a paused connection reads ahead at most 64 KiB + one read, not its write buffer",
  async () => {
    const { nodeTransport: t } = await import("../../adapters/node/transport.ts");
    let server: Conn | undefined;
    const l = await t.listen({ addr: LOOPBACK, highWaterMark: 1024 * 1024 }, {
      open(c) {
        server = c;
        c.pause();
      },
      data() {},
    });
    const c = await t.connect({ addr: l.addr }, { data() {} });
    try {
      for (let i = 0; i < 256; i++) c.write(new Uint8Array(64 * 1024)); // 16 MiB: more than every buffer on the way
      // Wait until the sender's queue stops shrinking: every buffer on the way is full.
      let last = -1;
      let stableSince = 0;
      await waitFor(
        () => {
          if (c.queued !== last) {
            last = c.queued;
            stableSince = performance.now();
            return false;
          }
          return performance.now() - stableSince > 500;
        },
        "the sender's queue to stop shrinking",
        20_000,
      );
      const readAhead = (server as unknown as { socket: { readableLength: number } }).socket.readableLength;
      expect(readAhead).toBeLessThanOrEqual(128 * 1024);
    } finally {
      c.close("abort");
      await l.close();
    }
  },
);
