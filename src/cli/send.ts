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
import { connect, connectOrReport, failure, type LinkOptions, stdoutPipe } from "./client-link.ts";
import { encodeMessage, framedMessages, textPayload } from "./send-input.ts";
import { runMany } from "./send-many.ts";
import type { Command } from "./command.ts";
import { CLIENT_DEADLINE_FLAGS } from "./client-flags.ts";
import { PROXY_CLIENT_FLAGS, withProxyFlags } from "./proxy-flags.ts";
import { clientTlsOptions, TLS_CLIENT_FLAGS } from "./tls-flags.ts";

const flags: FlagSpec[] = [
  { name: "no-newline", short: "n", kind: "boolean", help: "do not add a newline after TEXT" },
  ...CLIENT_DEADLINE_FLAGS,
  ...TLS_CLIENT_FLAGS,
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
    name: "expect",
    kind: "string",
    value: "N|any",
    help: "with --framing: reply frames that make a success (default: one per frame sent)",
  },
  {
    name: "max-frame",
    kind: "string",
    value: "SIZE",
    help: "with --framing: largest frame sent or accepted in a reply",
    default: "1MiB",
  },
  ...PROXY_CLIENT_FLAGS,
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
Each frame sent expects one frame back (an echo): fewer or more reply frames, or
reply bytes that do not decode, exit 1 with the counts. --expect N|any changes that.

With -c N, N connections are opened at once and each sends the same input (read once
from TEXT or stdin). Instead of the replies, one line per connection reports bytes
sent and received (and frames, with --framing), then a summary: connections ok and
failed, bytes, duration, throughput, connect and first-byte latency percentiles; exit
1 if any failed. Ctrl-C stops them all, prints the report so far and exits 130.

Every connection ends by itself: no byte either way for --wait (default 10s) is a
failure (exit 1). Use -w 0 to wait forever, e.g. for an interactive session.

Examples:
  switchboard send :7007 hello
  switchboard send :7007 --framing lp:u16 one two three
  switchboard send :7007 -c 100 hello

Options:
${formatFlags(flags)}
`;
}

async function runPlain(rt: Runtime, addr: Addr, linkOpts: LinkOptions, p: Parsed, words: string[]): Promise<number> {
  const { host, transport } = rt;
  const out = stdoutPipe(host);
  const link = await connectOrReport(
    host,
    addr,
    () => connect(transport, addr, linkOpts, { data: (c, chunk) => out.write(c, chunk), busy: out.busy }),
  );
  if (!link) return 1;
  // Input is pumped alongside: a connection that ends (server close, --wait) ends the
  // command even while stdin is still open.
  void (async () => {
    if (words.length > 0) {
      await link.write(textPayload(words, !has(p, "no-newline")));
    } else {
      for await (const chunk of host.stdin()) {
        if (link.conn.closed) return;
        await link.write(chunk);
      }
    }
    link.conn.end();
  })().catch((e) => link.abort(e instanceof Error ? e : new Error(String(e))));
  const err = await link.closed;
  await out.flushed();
  if (err) {
    await host.stderr.write(`switchboard: ${formatAddr(addr)}: ${failure(err)}\n`);
    return 1;
  }
  return 0;
}

/** "2 frames" / "1 frame". */
function frames(n: number): string {
  return `${n} frame${n === 1 ? "" : "s"}`;
}

async function runFramed(
  rt: Runtime,
  addr: Addr,
  linkOpts: LinkOptions,
  spec: string,
  maxFrame: number,
  expect: number | "any" | undefined,
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
  let sent = 0;
  let received = 0;
  const print = (c: Conn, decoded: () => Iterable<Uint8Array>) => {
    try {
      for (const f of decoded()) {
        received++;
        out.write(c, f);
        out.write(c, "\n");
      }
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      replyError ??= `undecodable reply after ${frames(received)}: ${err.message}`;
      queue.clear();
      c.close("abort");
    }
  };
  const link = await connectOrReport(host, addr, () =>
    connect(transport, addr, linkOpts, {
      data: (c, chunk) => {
        if (replyError) return;
        queue.push(chunk);
        print(c, () => decodeFrames(decoder, queue));
      },
      end: (c) => {
        if (!replyError) print(c, () => decodeEofAll(decoder, queue));
      },
      busy: out.busy,
    }));
  if (!link) return 1;
  let sendError: string | undefined;
  void (async () => {
    try {
      let n = 0;
      for await (const msg of framedMessages(host, words, eof, maxFrame)) {
        if (link.conn.closed) return;
        if (eof) await link.write(msg); // pieces of the one frame
        else {
          for (const piece of encodeMessage(frameEncoder, msg, ++n)) await link.write(piece);
          sent++;
        }
      }
      if (eof && !link.conn.closed) sent = 1;
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      sendError = err.message; // the replies to the frames before it are still read
    }
    link.conn.end();
  })().catch((e) => link.abort(e instanceof Error ? e : new Error(String(e))));
  const err = await link.closed;
  await out.flushed();
  const expected = expect ?? sent;
  const counts = `sent ${frames(sent)}, received ${received}${expect === "any" ? "" : ` (expected ${expected})`}`;
  const why = sendError ?? replyError ?? (err && failure(err)) ??
    (expected !== "any" && received !== expected ? "wrong number of reply frames" : undefined);
  if (why) {
    await host.stderr.write(`switchboard: ${formatAddr(addr)}: ${why}; ${counts}\n`);
    return 1;
  }
  return 0;
}

/** --expect N|any: how many reply frames make a success. */
function expectFlag(p: Parsed): number | "any" | undefined {
  const v = one(p, "expect");
  if (v === undefined || v === "any") return v;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new UsageError(`option "--expect" must be a whole number or "any", not "${v}"`);
  }
  return Number(v);
}

async function run(runtime: Runtime, argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, flags);
  const rt = withProxyFlags(runtime, p); // --proxy: every connection starts with the header
  const [target, ...words] = p.positionals;
  if (target === undefined) throw new UsageError("send needs an address, e.g. switchboard send 127.0.0.1:7007 hello");
  const addr = addrArg(target);
  const linkOpts: LinkOptions = { timeoutMs: durationFlag(p, "timeout"), waitMs: durationFlag(p, "wait") };
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
  const expect = expectFlag(p);
  if (expect !== undefined && spec === undefined) throw new UsageError("--expect counts frames: it needs --framing");
  const count = intFlag(p, "connections", 1, 100_000);
  const tls = await clientTlsOptions(rt, p);
  if (tls) linkOpts.tls = tls;
  if (count !== undefined) return await runMany(rt, addr, linkOpts, count, p, words, { spec, maxFrame, expect });
  if (spec !== undefined) return await runFramed(rt, addr, linkOpts, spec, maxFrame, expect, words);
  return await runPlain(rt, addr, linkOpts, p, words);
}

export const sendCommand: Command = {
  name: "send",
  help,
  run,
};
