// What `send` sends: TEXT arguments or stdin, as one payload or as messages to frame.

import { type Codec, CodecError, delimited, FrameReader } from "../codec/index.ts";
import type { Host } from "../host.ts";

const encoder = new TextEncoder();

/** TEXT arguments as one payload: joined by spaces, with a newline unless told not to. */
export function textPayload(words: readonly string[], newline: boolean): Uint8Array {
  return encoder.encode(words.join(" ") + (newline ? "\n" : ""));
}

/** Encodes one message; a frame the framing cannot carry is reported with its number. */
export function encodeMessage(codec: Codec<Uint8Array>, msg: Uint8Array, n: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  try {
    codec.encode(msg, (b) => void pieces.push(b));
  } catch (err) {
    if (err instanceof CodecError) throw new CodecError(err.code, `message ${n} cannot be sent: ${err.message}`);
    throw err;
  }
  return pieces;
}

/** The messages to send with a framing: TEXT arguments, else stdin lines (eof: all of it). */
export async function* framedMessages(
  host: Host,
  words: string[],
  eof: boolean,
  maxFrame: number,
): AsyncGenerator<Uint8Array> {
  if (words.length > 0) {
    if (eof) yield encoder.encode(words.join(" "));
    else for (const w of words) yield encoder.encode(w);
    return;
  }
  if (eof) {
    for await (const chunk of host.stdin()) yield chunk; // eof frames are sent as they are
    return;
  }
  const lines = new FrameReader(delimited({ delimiter: "\n", stripCr: true, maxLength: maxFrame }));
  for await (const chunk of host.stdin()) yield* lines.push(chunk);
  yield* lines.end();
}
