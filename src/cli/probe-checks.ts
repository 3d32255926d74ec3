// One health check per service, each speaking that service's protocol and checking the
// answer, not just that a port accepts: used by `switchboard probe` (the container's
// HEALTHCHECK). Each resolves with undefined when healthy, else with the reason.

import { AppClient } from "../app/client.ts";
import { decodeJson, jsonMessage } from "../app/content.ts";
import { concatBytes } from "../bytes.ts";
import { ByteQueue, CodecError, decodeEofAll, decodeFrames, framingFactory } from "../codec/index.ts";
import { type Addr, type Conn, ConnectError, type Transport } from "../transport.ts";
import { isTlsCode, type TlsClientOptions } from "../tls.ts";

export interface ProbeTarget {
  service: string;
  addr: Addr;
  /** echo only: the server's --framing. */
  framing?: string;
  /** Speak TLS to it (probe --tls and friends). */
  tls?: TlsClientOptions;
  /** Read from the server's command line: it serves TLS here (--tls-cert). */
  serverTls?: boolean;
}

/** A failed connect, short: the code, or for TLS the sentence that says what was not trusted. */
function cannotConnect(err: unknown): unknown {
  if (!(err instanceof ConnectError)) return err;
  return new Error(`cannot connect: ${isTlsCode(err.code) ? err.reason : err.code}`);
}

const decoder = new TextDecoder();

interface Exchange {
  received: Uint8Array;
  /** The server sent FIN (rather than the exchange stopping early via `enough`). */
  ended: boolean;
}

/**
 * Connect, send `payload` (if any) and half-close (unless `readFirst`), then collect
 * what comes back until the server's FIN, or until `maxBytes` have arrived (then we
 * half-close, which stops chargen, and discard the rest until the close).
 */
function exchange(
  transport: Transport,
  { addr, tls }: ProbeTarget,
  deadline: number,
  payload: Uint8Array | undefined,
  opts: { maxBytes: number; readFirst?: boolean },
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let got = 0;
    let ended = false;
    let stopped = false;
    let conn: Conn | undefined;
    let halfClosed = false;
    const halfClose = (c: Conn) => {
      if (!halfClosed) c.end();
      halfClosed = true;
    };
    const timer = setTimeout(() => {
      conn?.close("abort");
      reject(new Error("no complete answer in time"));
    }, Math.max(1, deadline - Date.now()));
    transport.connect({ addr, timeoutMs: Math.max(1, deadline - Date.now()), ...(tls ? { tls } : {}) }, {
      open: (c) => void (conn = c),
      data: (c, chunk) => {
        if (stopped) return;
        chunks.push(chunk);
        got += chunk.length;
        if (got >= opts.maxBytes) {
          stopped = true;
          halfClose(c);
        }
      },
      end: (c) => {
        if (stopped) return; // we half-closed already
        ended = true;
        halfClose(c);
      },
      close: (_c, err) => {
        clearTimeout(timer);
        if (err && !stopped) reject(err);
        else resolve({ received: concatBytes(chunks), ended });
      },
    }).then((c) => {
      conn = c;
      if (payload) c.write(payload);
      if (!opts.readFirst) halfClose(c);
    }, (err) => {
      clearTimeout(timer);
      reject(cannotConnect(err));
    });
  });
}

/** How much of an answer we read before calling it wrong: far more than any right one. */
const MAX_ANSWER = 64 * 1024;

/** A token that no framing's delimiter can cut: letters and digits without the delimiter's bytes. */
function token(framing: string | undefined): Uint8Array {
  const spec = framing?.trim().toLowerCase() ?? "";
  const banned = new Set<number>();
  if (spec.startsWith("delim:")) {
    for (const pair of spec.slice(6).match(/../g) ?? []) banned.add(parseInt(pair, 16));
  }
  const alphabet = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"]
    .map((ch) => ch.charCodeAt(0))
    .filter((b) => !banned.has(b));
  const fixed = /^fixed:(\d+)$/.exec(spec);
  const length = fixed ? Number(fixed[1]) : 24;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = alphabet[Math.floor(Math.random() * alphabet.length)]!;
  return out;
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

function preview(bytes: Uint8Array): string {
  const text = JSON.stringify(decoder.decode(bytes.subarray(0, 60)));
  return bytes.length > 60 ? `${text}... (${bytes.length} bytes)` : text;
}

async function checkEcho(t: Transport, target: ProbeTarget, deadline: number): Promise<string | undefined> {
  const sent = token(target.framing);
  if (target.framing === undefined) {
    const r = await exchange(t, target, deadline, sent, { maxBytes: sent.length + MAX_ANSWER });
    return same(r.received, sent) ? undefined : `sent ${preview(sent)}, got back ${preview(r.received)}`;
  }
  const factory = framingFactory(target.framing);
  const pieces: Uint8Array[] = [];
  factory().encode(sent, (b) => void pieces.push(b));
  const framed = concatBytes(pieces);
  const r = await exchange(t, target, deadline, framed, { maxBytes: framed.length + MAX_ANSWER });
  const queue = new ByteQueue();
  queue.push(r.received);
  const codec = factory();
  let frames: Uint8Array[];
  try {
    frames = [...decodeFrames(codec, queue), ...decodeEofAll(codec, queue)];
  } catch (err) {
    if (err instanceof CodecError) return `bad reply frame (${target.framing}): ${err.message}`;
    throw err;
  }
  if (frames.length === 1 && same(frames[0]!, sent)) return undefined;
  return `sent one ${target.framing} frame ${preview(sent)}, got back ${frames.length} frame(s): ${
    frames.map(preview).join(", ")
  }`;
}

async function checkDiscard(t: Transport, target: ProbeTarget, deadline: number): Promise<string | undefined> {
  const r = await exchange(t, target, deadline, token(undefined), { maxBytes: MAX_ANSWER });
  if (r.received.length > 0) return `a discard server sends nothing, but it sent ${preview(r.received)}`;
  return r.ended ? undefined : "the server did not close after our half-close";
}

const DAYTIME = /^[A-Z][a-z]+day, [A-Z][a-z]+ \d{1,2}, \d{4} \d{2}:\d{2}:\d{2}-UTC\r\n$/;

async function checkDaytime(t: Transport, target: ProbeTarget, deadline: number): Promise<string | undefined> {
  const r = await exchange(t, target, deadline, undefined, { maxBytes: MAX_ANSWER });
  return r.ended && DAYTIME.test(decoder.decode(r.received)) ? undefined : `not a daytime line: ${preview(r.received)}`;
}

async function checkTime(t: Transport, target: ProbeTarget, deadline: number): Promise<string | undefined> {
  const r = await exchange(t, target, deadline, undefined, { maxBytes: MAX_ANSWER });
  return r.received.length === 4 && r.ended ? undefined : `expected 4 bytes then close, got ${r.received.length} bytes`;
}

/** Two full lines of the RFC 864 pattern: 72 characters sliding by one, then CR LF. */
const CHARGEN_BYTES = 2 * 74;

async function checkChargen(t: Transport, target: ProbeTarget, deadline: number): Promise<string | undefined> {
  const r = await exchange(t, target, deadline, undefined, {
    maxBytes: CHARGEN_BYTES,
    readFirst: true,
  });
  const b = r.received;
  if (b.length < CHARGEN_BYTES) return `expected at least ${CHARGEN_BYTES} bytes, got ${b.length}`;
  const start = b[0]! - 0x20;
  for (let line = 0; line < 2; line++) {
    for (let i = 0; i < 72; i++) {
      if (b[line * 74 + i] !== 0x20 + ((start + line + i) % 95)) return `not the chargen pattern: ${preview(b)}`;
    }
    if (b[line * 74 + 72] !== 0x0d || b[line * 74 + 73] !== 0x0a) return `chargen line not ended by CR LF`;
  }
  return undefined;
}

async function checkApp(t: Transport, target: ProbeTarget, deadline: number): Promise<string | undefined> {
  const value = decoder.decode(token(undefined));
  const client = await AppClient.connect(t, target.addr, {
    timeoutMs: Math.max(1, deadline - Date.now()),
    ...(target.tls ? { tls: target.tls } : {}),
  }).catch((err) => {
    throw cannotConnect(err);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const reply = client.request(jsonMessage({ action: "echo", value }));
    client.end();
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no reply in time")), Math.max(1, deadline - Date.now()));
    });
    const body = decodeJson(await Promise.race([reply, late])) as { result?: unknown } | null;
    return body?.result === value ? undefined : `echo action answered ${JSON.stringify(body)}`;
  } finally {
    clearTimeout(timer);
    client.close();
  }
}

const checks: Record<string, (t: Transport, target: ProbeTarget, deadline: number) => Promise<string | undefined>> = {
  echo: checkEcho,
  discard: checkDiscard,
  daytime: checkDaytime,
  time: checkTime,
  chargen: checkChargen,
  app: checkApp,
};

/** Probe one listener; undefined when healthy, else why not. Never throws. */
export async function probe(transport: Transport, target: ProbeTarget, timeoutMs: number): Promise<string | undefined> {
  const check = checks[target.service];
  if (!check) return `no probe for service "${target.service}"`;
  try {
    return await check(transport, target, Date.now() + timeoutMs);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export const PROBED_SERVICES: readonly string[] = Object.keys(checks);
