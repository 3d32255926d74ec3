// Framed echo: `serve --service echo --framing SPEC`. Each frame decoded with the framing
// is sent back re-encoded with it, in order. A framing error (frame too large, bad
// length header, partial frame at EOF) closes the connection through ctx.fail with the
// codec's message; the frames before it are still echoed.

import { ByteQueue, type Codec, CodecError, decodeEofAll, decodeFrames, framingFactory } from "../codec/index.ts";
import type { Service, Session, SessionContext } from "./service.ts";
import { writePieces } from "./write-pieces.ts";

class FramedEchoSession implements Session {
  readonly #queue = new ByteQueue();
  readonly #codec: Codec<Uint8Array>;
  readonly #ctx: SessionContext;
  #stopped = false;
  #frames = 0;

  constructor(ctx: SessionContext, codec: Codec<Uint8Array>) {
    this.#ctx = ctx;
    this.#codec = codec;
  }

  data(chunk: Uint8Array): void {
    if (this.#stopped) return;
    this.#queue.push(chunk);
    this.#echo(() => decodeFrames(this.#codec, this.#queue));
  }

  end(): void {
    if (this.#stopped) return;
    if (this.#echo(() => decodeEofAll(this.#codec, this.#queue))) this.#ctx.end();
    this.#stopped = true;
  }

  midFrame(): boolean {
    return !this.#stopped && this.#queue.length > 0;
  }

  framesDone(): number {
    return this.#frames;
  }

  close(): void {
    this.#stopped = true;
    this.#queue.clear();
  }

  /** Echoes the frames `decode` yields; false (after ctx.fail) on a framing error. */
  #echo(decode: () => Iterable<Uint8Array>): boolean {
    const pieces: Uint8Array[] = [];
    const out = (b: Uint8Array) => void pieces.push(b);
    try {
      for (const frame of decode()) {
        this.#frames++;
        this.#codec.encode(frame, out);
      }
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      writePieces((b) => this.#ctx.write(b), pieces); // what came before the bad frame
      this.#stopped = true;
      this.#queue.clear();
      this.#ctx.fail(err.message);
      return false;
    }
    writePieces((b) => this.#ctx.write(b), pieces);
    return true;
  }
}

/**
 * A framed echo service; throws an Error for a bad framing spec or limit (check it at
 * start-up). `maxFrame` defaults to the server's `maxFrame` option.
 */
export function framedEchoService(spec: string, maxFrame?: number): Service {
  // The spec is checked now; with the server's limit, the codec factory is made (once per
  // limit) when connections come, as only then are the server's options known.
  let made = framingFactory(spec, { maxFrame: maxFrame ?? Number.MAX_SAFE_INTEGER });
  let madeFor = maxFrame;
  return {
    name: "echo",
    open: (ctx) => {
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
      return new FramedEchoSession(ctx, made());
    },
  };
}
