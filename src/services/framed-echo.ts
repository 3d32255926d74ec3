// Framed echo: `serve --service echo --framing SPEC`. Each frame decoded with the framing
// is sent back re-encoded with it, in order. A framing error (frame too large, bad
// length header, partial frame at EOF) closes the connection through ctx.fail with the
// codec's message; the frames before it are still echoed.

import { type Codec, framingFactory } from "../codec/index.ts";
import { framedService } from "./framed.ts";
import type { Service, SessionContext } from "../server/service.ts";

/**
 * A framed echo service; throws an Error for a bad framing spec or limit (check it at
 * start-up). `maxFrame` defaults to the server's `maxFrame` option.
 */
export function framedEchoService(spec: string, maxFrame?: number): Service {
  // The spec is checked now; with the server's limit, the codec factory is made (once per
  // limit) when connections come, as only then are the server's options known.
  let made = framingFactory(spec, { maxFrame: maxFrame ?? Number.MAX_SAFE_INTEGER });
  let madeFor = maxFrame;
  const codecFor = (ctx: SessionContext): Codec<Uint8Array> => {
    const limit = maxFrame ?? ctx.options.maxFrame;
    if (limit !== madeFor) {
      try {
        made = framingFactory(spec, { maxFrame: limit });
      } catch (err) {
        // fixed:N over the server's maxFrame: a configuration error; this connection is cut.
        ctx.log.error("framed echo cannot serve", { conn: ctx.id, error: (err as Error).message });
        throw err;
      }
      madeFor = limit;
    }
    return made();
  };
  // The decoder is the connection's codec, and its encoder too; each frame is its own reply.
  return framedService<Uint8Array, Uint8Array>({ name: "echo", decoder: codecFor, handle: (frame) => frame });
}
