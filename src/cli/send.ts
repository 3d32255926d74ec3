// `switchboard send`: the echo client.
//   plain:        sends TEXT (or stdin), half-closes, prints every byte that comes back
//                 until the server closes, and exits 0.
//   --framing F:  each TEXT argument (or stdin line) is one frame; each reply frame is
//                 printed on its own line.
//   -c N:         N connections at once, each sending the same input (the guides'
//                 multi-connection client); one result line per connection.

import { concatBytes } from "../bytes.ts";
import { formatAddr } from "../addr.ts";
import {
  ByteQueue,
  type Codec,
  CodecError,
  decodeEofAll,
  decodeFrames,
  delimited,
  FrameReader,
  framingFactory,
} from "../codec/index.ts";
import type { Host, Runtime } from "../host.ts";
import { type Addr, type Conn, ConnectError, type ConnHandler, type Transport } from "../transport.ts";
import {
  addrArg,
  durationFlag,
  type FlagSpec,
  formatFlags,
  has,
  intFlag,
  one,
  parseArgs,
  type Parsed,
  parseSize,
  UsageError,
} from "./args.ts";
import type { Command } from "./command.ts";

const flags: FlagSpec[] = [
  { name: "no-newline", short: "n", kind: "boolean", help: "do not add a newline after TEXT" },
  {
    name: "timeout",
    short: "t",
    kind: "string",
    value: "DURATION",
    help: "give up connecting after this long",
    default: "10s",
  },
  {
    name: "framing",
    short: "f",
    kind: "string",
    value: "SPEC",
    help: "send each TEXT (or stdin line) as one frame, print each reply frame on a line",
  },
  {
    name: "connections",
    short: "c",
    kind: "string",
    value: "N",
    help: "open N connections at once, each sending the same input; report each",
  },
  {
    name: "max-frame",
    kind: "string",
    value: "SIZE",
    help: "with --framing: largest frame sent or accepted in a reply",
    default: "1MiB",
  },
];

function help(): string {
  return `Usage: switchboard send ADDR [TEXT...] [options]

Connects to ADDR (host:port, [v6]:port, :port or unix:/path), sends TEXT followed by a
newline (or, without TEXT, all of standard input), half-closes, and prints everything
the server sends back until it closes the connection.

With --framing SPEC, every TEXT argument (without TEXT: every line of standard input)
is sent as one frame of that framing, and every frame that comes back is printed on a
line of its own. With the eof framing, all the input is one frame. SPEC is one of:
line, crlf, fixed:N, lp:u8, lp:u16, lp:u32, lp:u64, lp:asciiN, delim:HEX, eof.

With -c N, N connections are opened at once and each sends the same input (read once
from TEXT or stdin). Instead of the replies, one line per connection reports bytes
sent and received (and frames, with --framing), then a total; exit 1 if any failed.

Examples:
  switchboard send :7007 hello
  switchboard send :7007 --framing lp:u16 one two three
  switchboard send :7007 -c 100 hello

Options:
${formatFlags(flags)}
`;
}

const encoder = new TextEncoder();
/** Pause reading from the socket while this many stdout writes are outstanding. */
const MAX_PENDING_OUTPUT = 16;

interface Link {
  conn: Conn;
  /** Resolves when `bytes` is queued and the queue is below the high-water mark. */
  write(bytes: Uint8Array): Promise<void>;
  closed: Promise<Error | undefined>;
}

/** Connects with a handler for incoming bytes; the link tracks drain and close. */
async function connect(
  transport: Transport,
  addr: Addr,
  timeoutMs: number,
  on: { data(c: Conn, chunk: Uint8Array): void; end?(c: Conn): void },
): Promise<Link> {
  let drained: (() => void) | undefined;
  let closedWith!: (err: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((resolve) => (closedWith = resolve));
  const handler: ConnHandler = {
    data: on.data,
    // The server is done sending; our side ends once all input is sent.
    end: on.end ?? (() => {}),
    drain: () => drained?.(),
    close: (_c, err) => {
      closedWith(err);
      drained?.();
    },
  };
  const conn = await transport.connect({ addr, timeoutMs: timeoutMs || undefined }, handler);
  const write = async (bytes: Uint8Array) => {
    if (!conn.write(bytes) && !conn.closed) await new Promise<void>((r) => (drained = r));
  };
  return { conn, write, closed };
}

/** Writes to stdout in order, pausing the socket while stdout lags behind it. */
function stdoutPipe(host: Host) {
  let pending = 0;
  return {
    write(c: Conn, data: Uint8Array | string) {
      if (++pending >= MAX_PENDING_OUTPUT) c.pause();
      void host.stdout.write(data).then(() => {
        if (--pending === 0) c.resume();
      });
    },
    async flushed() {
      while (pending > 0) await new Promise((r) => setTimeout(r, 1));
    },
  };
}

async function connectOrReport(host: Host, addr: Addr, attempt: () => Promise<Link>): Promise<Link | undefined> {
  try {
    return await attempt();
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    await host.stderr.write(`switchboard: cannot connect to ${formatAddr(addr)}: ${err.code}\n`);
    return undefined;
  }
}

async function runPlain(rt: Runtime, addr: Addr, timeoutMs: number, p: Parsed, words: string[]): Promise<number> {
  const { host, transport } = rt;
  const out = stdoutPipe(host);
  const link = await connectOrReport(
    host,
    addr,
    () => connect(transport, addr, timeoutMs, { data: (c, chunk) => out.write(c, chunk) }),
  );
  if (!link) return 1;
  if (words.length > 0) {
    await link.write(encoder.encode(words.join(" ") + (has(p, "no-newline") ? "" : "\n")));
  } else {
    for await (const chunk of host.stdin()) {
      if (link.conn.closed) break;
      await link.write(chunk);
    }
  }
  link.conn.end();
  const err = await link.closed;
  await out.flushed();
  if (err) {
    await host.stderr.write(`switchboard: connection to ${formatAddr(addr)} failed: ${err.message}\n`);
    return 1;
  }
  return 0;
}

/** Encodes one message; a frame the framing cannot carry is reported with its number. */
function encodeMessage(codec: Codec<Uint8Array>, msg: Uint8Array, n: number): Uint8Array[] {
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
async function* framedMessages(
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

async function runFramed(
  rt: Runtime,
  addr: Addr,
  timeoutMs: number,
  spec: string,
  maxFrame: number,
  words: string[],
): Promise<number> {
  const { host, transport } = rt;
  const factory = framingFactory(spec, { maxFrame });
  const eof = spec.trim().toLowerCase() === "eof";
  const frameEncoder = factory();
  const decoder = factory();
  const queue = new ByteQueue();
  const out = stdoutPipe(host);
  let replyError: string | undefined;
  const print = (c: Conn, frames: Iterable<Uint8Array>) => {
    try {
      for (const f of frames) {
        out.write(c, f);
        out.write(c, "\n");
      }
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      replyError ??= `bad reply frame: ${err.message}`;
      queue.clear();
      c.close("abort");
    }
  };
  const link = await connectOrReport(host, addr, () =>
    connect(transport, addr, timeoutMs, {
      data: (c, chunk) => {
        if (replyError) return;
        queue.push(chunk);
        print(c, decodeFrames(decoder, queue));
      },
      end: (c) => {
        if (!replyError) print(c, decodeEofAll(decoder, queue));
      },
    }));
  if (!link) return 1;
  let sendError: string | undefined;
  let n = 0;
  try {
    for await (const msg of framedMessages(host, words, eof, maxFrame)) {
      if (link.conn.closed) break;
      if (eof) await link.write(msg);
      else for (const piece of encodeMessage(frameEncoder, msg, ++n)) await link.write(piece);
    }
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    sendError = err.message;
  }
  link.conn.end();
  const err = await link.closed;
  await out.flushed();
  const why = sendError ?? replyError ?? err?.message;
  if (why) {
    await host.stderr.write(`switchboard: ${formatAddr(addr)}: ${why}\n`);
    return 1;
  }
  return 0;
}

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

async function runMany(
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
    parts.push(encoder.encode(words.join(" ") + (has(p, "no-newline") ? "" : "\n")));
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

async function run(rt: Runtime, argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, flags);
  const [target, ...words] = p.positionals;
  if (target === undefined) throw new UsageError("send needs an address, e.g. switchboard send 127.0.0.1:7007 hello");
  const addr = addrArg(target);
  const timeoutMs = durationFlag(p, "timeout");
  const spec = one(p, "framing");
  const maxFrame = parseSize(one(p, "max-frame")!);
  if (spec !== undefined) {
    try {
      framingFactory(spec, { maxFrame });
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    if (has(p, "no-newline")) throw new UsageError("--no-newline does not apply with --framing");
  }
  const count = intFlag(p, "connections", 1, 100_000);
  if (count !== undefined) return await runMany(rt, addr, timeoutMs, count, p, words, spec, maxFrame);
  if (spec !== undefined) return await runFramed(rt, addr, timeoutMs, spec, maxFrame, words);
  return await runPlain(rt, addr, timeoutMs, p, words);
}

export const sendCommand: Command = {
  name: "send",
  summary: "echo client: send text, stdin or frames (one or many connections), print the reply",
  help,
  run,
};
