// `switchboard send`: the echo client. Sends TEXT (or stdin), half-closes, prints every
// byte that comes back until the server closes, and exits 0.

import { AddrError, formatAddr, parseAddr } from "../addr.ts";
import { DurationError, parseDuration } from "../duration.ts";
import type { Runtime } from "../host.ts";
import { ConnectError, type Conn } from "../transport.ts";
import { type FlagSpec, formatFlags, has, one, parseArgs, UsageError } from "./args.ts";
import type { Command } from "./command.ts";

const flags: FlagSpec[] = [
  { name: "no-newline", short: "n", kind: "boolean", help: "do not add a newline after TEXT" },
  { name: "timeout", short: "t", kind: "string", value: "DURATION", help: "give up connecting after this long", default: "10s" },
];

function help(): string {
  return `Usage: switchboard send ADDR [TEXT...] [options]

Connects to ADDR (host:port, [v6]:port, :port or unix:/path), sends TEXT followed by a
newline (or, without TEXT, all of standard input), half-closes, and prints everything
the server sends back until it closes the connection.

Options:
${formatFlags(flags)}
`;
}

const encoder = new TextEncoder();
/** Pause reading from the socket while this many stdout writes are outstanding. */
const MAX_PENDING_OUTPUT = 16;

async function run(rt: Runtime, argv: readonly string[]): Promise<number> {
  const { host, transport } = rt;
  const p = parseArgs(argv, flags);
  const [target, ...words] = p.positionals;
  if (target === undefined) throw new UsageError("send needs an address, e.g. switchboard send 127.0.0.1:7007 hello");
  let addr;
  let timeoutMs;
  try {
    addr = parseAddr(target, "127.0.0.1");
    timeoutMs = parseDuration(one(p, "timeout")!);
  } catch (err) {
    if (err instanceof AddrError || err instanceof DurationError) throw new UsageError(err.message);
    throw err;
  }

  let pendingOutput = 0;
  let drained: (() => void) | undefined;
  let closedWith!: (err: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((resolve) => (closedWith = resolve));
  let conn: Conn;
  try {
    conn = await transport.connect({ addr, timeoutMs: timeoutMs || undefined }, {
      data(c, chunk) {
        // Backpressure towards the server while stdout is slower than the socket.
        if (++pendingOutput >= MAX_PENDING_OUTPUT) c.pause();
        void host.stdout.write(chunk).then(() => {
          if (--pendingOutput === 0) c.resume();
        });
      },
      end() {
        // The server is done sending; our side ends once all input is sent.
      },
      drain: () => drained?.(),
      close: (_c, err) => closedWith(err),
    });
  } catch (err) {
    if (err instanceof ConnectError) {
      await host.stderr.write(`switchboard: cannot connect to ${formatAddr(addr)}: ${err.code}\n`);
      return 1;
    }
    throw err;
  }

  const write = async (bytes: Uint8Array) => {
    if (!conn.write(bytes)) await new Promise<void>((r) => (drained = r));
  };
  if (words.length > 0) {
    await write(encoder.encode(words.join(" ") + (has(p, "no-newline") ? "" : "\n")));
  } else {
    for await (const chunk of host.stdin()) {
      if (conn.closed) break;
      await write(chunk);
    }
  }
  conn.end();

  const err = await closed;
  while (pendingOutput > 0) await new Promise((r) => setTimeout(r, 1));
  if (err) {
    await host.stderr.write(`switchboard: connection to ${formatAddr(addr)} failed: ${err.message}\n`);
    return 1;
  }
  return 0;
}

export const sendCommand: Command = { name: "send", summary: "echo client: send text or stdin, print the reply", help, run };
