// `send -c N`: the guides' multi-connection client. N connections at once, each sends
// the same input, half-closes and counts what comes back; then the report
// (send-report.ts). Ctrl-C ends every connection and prints the report so far (exit 130).

import { concatBytes } from "../bytes.ts";
import { ByteQueue, type Codec, CodecError, decodeEofAll, decodeFrames, framingFactory } from "../codec/index.ts";
import type { Runtime } from "../host.ts";
import { type Addr, ConnectError, type Transport } from "../transport.ts";
import { has, type Parsed } from "./args.ts";
import { connect, failure, type Link, type LinkOptions, StoppedError } from "./client-link.ts";
import { type ConnResult, formatReport, newResult } from "./send-report.ts";
import { encodeMessage, framedMessages, textPayload } from "./send-input.ts";

/** Exit status after Ctrl-C, as shells report a SIGINT death (128 + 2). */
export const EXIT_INTERRUPTED = 130;

interface Framed {
  decoder: Codec<Uint8Array>;
  /** Reply frames that make a success; "any" does not count. */
  expected: number | "any";
}

/** One of -c N connections: send `payload`, half-close, count what comes back until close. */
async function oneOfMany(
  transport: Transport,
  addr: Addr,
  opts: LinkOptions,
  payload: Uint8Array,
  r: ConnResult,
  links: Set<Link>,
  framed?: Framed,
): Promise<void> {
  const started = performance.now();
  let connectedAt = started;
  const queue = new ByteQueue();
  const count = (frames: () => Iterable<Uint8Array>) => {
    if (!framed || r.error) return;
    try {
      for (const _ of frames()) r.frames++;
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      r.error = `undecodable reply after ${r.frames} frames: ${err.message}`;
      queue.clear();
    }
  };
  try {
    const link = await connect(transport, addr, opts, {
      data: (_c, chunk) => {
        r.firstByteMs ??= performance.now() - connectedAt;
        r.received += chunk.length;
        if (framed) queue.push(chunk);
        count(() => decodeFrames(framed!.decoder, queue));
      },
      end: () => count(() => decodeEofAll(framed!.decoder, queue)),
    });
    connectedAt = performance.now();
    r.connectMs = connectedAt - started;
    links.add(link);
    await link.write(payload);
    if (!link.conn.closed) r.sent = payload.length;
    link.conn.end();
    const err = await link.closed;
    links.delete(link);
    if (err) r.error ??= failure(err);
    const expected = framed?.expected;
    if (!r.error && expected !== undefined && expected !== "any" && r.frames !== expected) {
      r.error = `received ${r.frames} of ${expected} reply frames`;
    }
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    r.error = `cannot connect: ${err.code}`;
  }
  r.ms = performance.now() - started;
  r.done = true;
}

/** The bytes every connection sends (input read once) and how many frames they hold. */
async function buildPayload(
  rt: Runtime,
  p: Parsed,
  words: string[],
  framing: { spec?: string; maxFrame: number },
): Promise<{ payload: Uint8Array; frames: number }> {
  const parts: Uint8Array[] = [];
  let frames = 0;
  if (framing.spec !== undefined) {
    const eof = framing.spec.trim().toLowerCase() === "eof";
    const codec = framingFactory(framing.spec, { maxFrame: framing.maxFrame })();
    for await (const msg of framedMessages(rt.host, words, eof, framing.maxFrame)) {
      if (eof) parts.push(msg);
      else parts.push(...encodeMessage(codec, msg, ++frames));
    }
    if (eof) frames = 1;
  } else if (words.length > 0) {
    parts.push(textPayload(words, !has(p, "no-newline")));
  } else {
    for await (const chunk of rt.host.stdin()) parts.push(chunk);
  }
  return { payload: concatBytes(parts), frames };
}

export async function runMany(
  rt: Runtime,
  addr: Addr,
  opts: LinkOptions,
  count: number,
  p: Parsed,
  words: string[],
  framing: { spec?: string; maxFrame: number; expect?: number | "any" },
): Promise<number> {
  const { host, transport } = rt;
  let input: { payload: Uint8Array; frames: number };
  try {
    input = await buildPayload(rt, p, words, framing);
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    await host.stderr.write(`switchboard: ${err.message}\n`);
    return 1;
  }
  const factory = framing.spec !== undefined ? framingFactory(framing.spec, { maxFrame: framing.maxFrame }) : undefined;
  const expected = framing.expect ?? input.frames;

  const started = performance.now();
  const results = Array.from({ length: count }, newResult);
  const links = new Set<Link>();
  let interrupted = false;
  let finishedBeforeStop = 0;
  let onInterrupt!: () => void;
  const interruptedP = new Promise<void>((resolve) => (onInterrupt = resolve));
  const removeSignal = host.onSignal("SIGINT", () => {
    if (interrupted) return;
    interrupted = true;
    finishedBeforeStop = results.filter((r) => r.done).length;
    for (const link of links) link.abort(new StoppedError("interrupted"));
    onInterrupt();
  });
  try {
    await Promise.race([
      Promise.all(results.map((r) =>
        oneOfMany(
          transport,
          addr,
          opts,
          input.payload,
          r,
          links,
          factory ? { decoder: factory(), expected } : undefined,
        )
      )),
      interruptedP,
    ]);
  } finally {
    removeSignal();
  }
  const elapsedMs = performance.now() - started;
  const report = formatReport({ addr, results, framed: factory !== undefined, elapsedMs, interrupted });
  await host.stdout.write(report.text);
  if (interrupted) {
    await host.stderr.write(`switchboard: interrupted; ${finishedBeforeStop} of ${count} connections had finished\n`);
    return EXIT_INTERRUPTED;
  }
  return report.ok ? 0 : 1;
}
