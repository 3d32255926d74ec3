// Conformance checks for what the read side hands over: each data chunk is the receiver's
// own and right-sized, not a view that keeps a much larger read buffer alive (a service
// that holds a few bytes of every chunk, like a framed decoder keeping a partial frame,
// would otherwise pin up to a whole read buffer per connection).
import { assert, type Check, withServer } from "./check-kit.ts";
import { pattern, waitFor, withTimeout } from "../support/sockets.ts";

/** A chunk may sit in a buffer at most this much larger than itself. */
export const PIN_SLACK = (chunkBytes: number) => Math.floor(chunkBytes / 4) + 8 * 1024;

export const bufferChecks: Record<string, Check> = {
  "data chunks do not pin read buffers much larger than themselves": async (ctx) => {
    let worst = { chunk: 0, buffer: 0 };
    let received = 0;
    let ended = false;
    const total = 4 * 1024 * 1024;
    await withServer(ctx, {
      data(_c, chunk) {
        received += chunk.length;
        if (chunk.buffer.byteLength - chunk.byteLength > PIN_SLACK(chunk.byteLength)) {
          if (chunk.buffer.byteLength - chunk.byteLength > worst.buffer - worst.chunk) {
            worst = { chunk: chunk.byteLength, buffer: chunk.buffer.byteLength };
          }
        }
      },
      end(c) {
        ended = true;
        c.end();
      },
    }, async (addr) => {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          ctx.t.connect({ addr }, {
            data() {},
            close: (_c, err) => (err ? reject(err) : resolve()),
          }).then((c) => {
            // Writes of every size from 1 byte to 40 KiB, so reads come in every size too
            // (and an adapter that grows its read buffer grows it).
            let sent = 0;
            for (let i = 0; sent < total; i++) {
              const b = pattern(1 + ((i * 7919) % 40_000), i);
              c.write(b);
              sent += b.length;
            }
            c.end();
          }, reject);
        }),
        ctx.timeoutMs,
        "streaming 4 MiB in writes of every size",
      );
      await waitFor(() => ended, "the peer's FIN", ctx.timeoutMs);
    });
    assert(received >= total, `received ${received} of ${total} bytes`);
    assert(
      worst.chunk === 0,
      `a ${worst.chunk}-byte chunk was a view of a ${worst.buffer}-byte buffer (pins more than ${
        PIN_SLACK(worst.chunk)
      } extra bytes)`,
    );
  },
};
