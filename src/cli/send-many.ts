// `send -c N`: the guides' multi-connection client. N connections at once, each sends
// the same input, half-closes and counts what comes back; one result line each.

import { concatBytes } from "../bytes.ts";
import { formatAddr } from "../addr.ts";
import { ByteQueue, type Codec, CodecError, decodeEofAll, decodeFrames, framingFactory } from "../codec/index.ts";
import type { Runtime } from "../host.ts";
import { type Addr, ConnectError, type Transport } from "../transport.ts";
import { has, type Parsed } from "./args.ts";
import { connect } from "./client-link.ts";
import { encodeMessage, framedMessages, textPayload } from "./send-input.ts";

interface ConnResult {
  sent: number;
  received: number;
  frames: number;
  ms: number;
  error?: string;
}

/** One of -c N connections: send `payload`, half-close, count what comes back until close. */
async function oneOfMany(
  transport: Transport,
  addr: Addr,
  timeoutMs: number,
  payload: Uint8Array,
  decoder?: Codec<Uint8Array>,
): Promise<ConnResult> {
  const started = Date.now();
  const r: ConnResult = { sent: 0, received: 0, frames: 0, ms: 0 };
  const queue = new ByteQueue();
  const count = (frames: () => Iterable<Uint8Array>) => {
    if (!decoder || r.error) return;
    try {
      for (const _ of frames()) r.frames++;
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      r.error = `bad reply frame: ${err.message}`;
      queue.clear();
    }
  };
  try {
    const link = await connect(transport, addr, timeoutMs, {
      data: (_c, chunk) => {
        r.received += chunk.length;
        if (decoder) queue.push(chunk);
        count(() => decodeFrames(decoder!, queue));
      },
      end: () => count(() => decodeEofAll(decoder!, queue)),
    });
    await link.write(payload);
    if (!link.conn.closed) r.sent = payload.length;
    link.conn.end();
    const err = await link.closed;
    if (err) r.error ??= err.message;
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    r.error = `cannot connect: ${err.code}`;
  }
  r.ms = Date.now() - started;
  return r;
}

export async function runMany(
  rt: Runtime,
  addr: Addr,
  timeoutMs: number,
  count: number,
  p: Parsed,
  words: string[],
  spec?: string,
  maxFrame?: number,
): Promise<number> {
  const { host, transport } = rt;
  // The input is read once and sent on every connection.
  const parts: Uint8Array[] = [];
  let factory: (() => Codec<Uint8Array>) | undefined;
  if (spec !== undefined) {
    factory = framingFactory(spec, { maxFrame });
    const eof = spec.trim().toLowerCase() === "eof";
    const codec = factory();
    let n = 0;
    try {
      for await (const msg of framedMessages(host, words, eof, maxFrame!)) {
        if (eof) parts.push(msg);
        else parts.push(...encodeMessage(codec, msg, ++n));
      }
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      await host.stderr.write(`switchboard: ${err.message}\n`);
      return 1;
    }
  } else if (words.length > 0) {
    parts.push(textPayload(words, !has(p, "no-newline")));
  } else {
    for await (const chunk of host.stdin()) parts.push(chunk);
  }
  const payload = concatBytes(parts);

  const results = await Promise.all(
    Array.from({ length: count }, () => oneOfMany(transport, addr, timeoutMs, payload, factory?.())),
  );
  let ok = 0;
  let sent = 0;
  let received = 0;
  const lines = results.map((r, i) => {
    sent += r.sent;
    received += r.received;
    if (!r.error) ok++;
    const frames = factory ? `, ${r.frames} frames` : "";
    return `conn ${i + 1}: ${
      r.error ? `error: ${r.error}` : "ok"
    }, sent ${r.sent} bytes, received ${r.received} bytes${frames}, ${r.ms} ms\n`;
  });
  lines.push(
    `${count} connections to ${formatAddr(addr)}: ${ok} ok, ${
      count - ok
    } failed; sent ${sent} bytes, received ${received} bytes\n`,
  );
  await host.stdout.write(lines.join(""));
  return ok === count ? 0 : 1;
}
