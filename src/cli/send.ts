// `switchboard send`: the echo client.
//   plain:        sends TEXT (or stdin), half-closes, prints every byte that comes back
//                 until the server closes, and exits 0.
//   --framing F:  each TEXT argument (or stdin line) is one frame; each reply frame is
//                 printed on its own line.
//   -c N:         N connections at once, each sending the same input (the guides'
//                 multi-connection client); one result line per connection.

import { formatAddr } from "../addr.ts";
import { ByteQueue, CodecError, decodeEofAll, decodeFrames, framingFactory } from "../codec/index.ts";
import type { Runtime } from "../host.ts";
import type { Addr, Conn } from "../transport.ts";
import {
  addrArg,
  BUFFER_RANGE,
  durationFlag,
  type FlagSpec,
  formatFlags,
  has,
  intFlag,
  one,
  parseArgs,
  type Parsed,
  sizeFlag,
  UsageError,
} from "./args.ts";
import { connect, connectOrReport, stdoutPipe } from "./client-link.ts";
import { encodeMessage, framedMessages, textPayload } from "./send-input.ts";
import { runMany } from "./send-many.ts";
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
    await link.write(textPayload(words, !has(p, "no-newline")));
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

async function run(rt: Runtime, argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, flags);
  const [target, ...words] = p.positionals;
  if (target === undefined) throw new UsageError("send needs an address, e.g. switchboard send 127.0.0.1:7007 hello");
  const addr = addrArg(target);
  const timeoutMs = durationFlag(p, "timeout");
  const spec = one(p, "framing");
  const maxFrame = sizeFlag(p, "max-frame", BUFFER_RANGE); // before connecting: a bad size is a usage error
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
