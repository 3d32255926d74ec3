// `switchboard request`: one app-protocol request (the tutorial client's job). Sends a
// text/json {"action", "value"} request, an arbitrary JSON object, or binary content,
// half-closes, prints the reply, and exits 0; 1 on an error reply or protocol error.

import { concatBytes } from "../bytes.ts";
import { formatAddr } from "../addr.ts";
import { AppClient, AppClientError } from "../app/client.ts";
import { binaryMessage, CLIENT_BINARY_TYPE, jsonMessage } from "../app/content.ts";
import { checkReply } from "../app/reply-check.ts";
import type { AppMessage } from "../app/envelope.ts";
import { CodecError } from "../codec/index.ts";
import type { Host, Runtime } from "../host.ts";
import { parseJson } from "../json-parse.ts";
import { SilenceError } from "../silence.ts";
import { ConnectError } from "../transport.ts";
import {
  addrArg,
  BUFFER_RANGE,
  durationFlag,
  type FlagSpec,
  formatFlags,
  has,
  one,
  parseArgs,
  type Parsed,
  sizeFlag,
  UsageError,
} from "./args.ts";
import type { Command } from "./command.ts";
import { CLIENT_DEADLINE_FLAGS } from "./client-flags.ts";
import { PROXY_CLIENT_FLAGS, withProxyFlags } from "./proxy-flags.ts";
import { clientTlsOptions, TLS_CLIENT_FLAGS } from "./tls-flags.ts";
import { escapeBytes, escapeControls } from "./escape.ts";

const flags: FlagSpec[] = [
  {
    name: "json",
    short: "j",
    kind: "string",
    value: "OBJECT",
    help: "send this JSON object as the text/json request instead of ACTION VALUE",
  },
  { name: "binary", short: "b", kind: "boolean", help: "send binary content: TEXT, --file, or standard input" },
  { name: "file", kind: "string", value: "PATH", help: "with --binary: send this file's bytes" },
  {
    name: "content-type",
    kind: "string",
    value: "TYPE",
    help: "content type of a binary request",
    default: CLIENT_BINARY_TYPE,
  },
  ...CLIENT_DEADLINE_FLAGS,
  ...TLS_CLIENT_FLAGS,
  { name: "max-reply", kind: "string", value: "SIZE", help: "largest reply content accepted", default: "16MiB" },
  { name: "verbose", short: "v", kind: "boolean", help: "print the request and reply headers to stderr" },
  ...PROXY_CLIENT_FLAGS,
];

function help(): string {
  return `Usage: switchboard request ADDR ACTION VALUE...      e.g. request 127.0.0.1:7065 search ring
       switchboard request ADDR --json OBJECT
       switchboard request ADDR --binary [TEXT... | --file PATH]   (no TEXT or file: stdin)

Speaks the app protocol (2-byte header length, JSON header, content; see
docs/protocols.md) with a switchboard app server or the Python tutorial's server.
Sends one request, half-closes, and prints the reply:
  text/json reply  the "result" value (strings as plain text, anything else as JSON;
                   control characters escaped as \\xNN when stdout is a terminal)
  binary reply     its content type and size, and its content (escaped); when the
                   server sent back "length=N sha256=HEX", whether it matches what was sent

Only a real answer is a success: a reply that echoes the request (an echo server), has
no "result" or a null one, or is binary for a text/json request is a failure saying why.
No byte either way for --wait (default 10s) ends the request as a failure.

Actions of the switchboard server: search VALUE (dictionary lookup), echo VALUE.
Exit status: 0 reply printed; 1 error reply ("error" field or "Error: ..." result),
not a reply of this protocol, silence (--wait), or connection failure; 2 usage error.

Options:
${formatFlags(flags)}
`;
}

const encoder = new TextEncoder();

async function readAll(host: Host): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of host.stdin()) chunks.push(c);
  return concatBytes(chunks);
}

/** The request message from the arguments. */
async function buildRequest(host: Host, p: Parsed, words: string[]): Promise<AppMessage> {
  const json = one(p, "json");
  const binary = has(p, "binary") || has(p, "file");
  if (json !== undefined && binary) throw new UsageError("--json and --binary cannot be combined");
  if (json !== undefined) {
    if (words.length > 0) throw new UsageError(`unexpected argument "${words[0]}" after --json`);
    try {
      return jsonMessage(parseJson(json));
    } catch {
      throw new UsageError(`--json: not valid JSON: ${json}`);
    }
  }
  if (binary) {
    const type = one(p, "content-type")!;
    const path = one(p, "file");
    if (path !== undefined) {
      if (words.length > 0) throw new UsageError("give binary content as TEXT or --file, not both");
      try {
        return binaryMessage(await host.readFile(path), type);
      } catch (err) {
        throw new Error(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return binaryMessage(words.length > 0 ? encoder.encode(words.join(" ")) : await readAll(host), type);
  }
  const [action, ...value] = words;
  if (action === undefined) {
    throw new UsageError("request needs ACTION VALUE (e.g. search ring), --json OBJECT or --binary");
  }
  if (value.length === 0) throw new UsageError(`action "${action}" needs a VALUE`);
  return jsonMessage({ action, value: value.join(" ") });
}

/** What to print for a reply, or the error that makes it a failure. */
function describe(reply: AppMessage, request: AppMessage, terminal: boolean): { out: string } | { error: string } {
  const v = checkReply(request, reply);
  switch (v.kind) {
    case "invalid":
      return { error: v.why };
    case "error-reply":
      return { error: `server replied with an error: ${v.message}` };
    case "binary": {
      const matches = v.matchesBytes === undefined ? "" : ` (matches the ${v.matchesBytes} bytes sent)`;
      return { out: `binary reply (${v.type}, ${v.content.length} bytes): ${escapeBytes(v.content)}${matches}\n` };
    }
    case "result": {
      const text = typeof v.result === "string" ? v.result : JSON.stringify(v.result);
      return { out: (terminal ? escapeControls(text) : text) + "\n" };
    }
  }
}

async function run(rt: Runtime, argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, flags);
  const { host, transport } = withProxyFlags(rt, p); // --proxy: every connection starts with the header
  const [target, ...words] = p.positionals;
  if (target === undefined) {
    throw new UsageError("request needs an address, e.g. switchboard request 127.0.0.1:7065 search ring");
  }
  const addr = addrArg(target);
  const timeoutMs = durationFlag(p, "timeout");
  const waitMs = durationFlag(p, "wait");
  const maxReply = sizeFlag(p, "max-reply", BUFFER_RANGE);
  const request = await buildRequest(host, p, words);
  const tls = await clientTlsOptions(rt, p);
  const verbose = has(p, "verbose");
  if (verbose) await host.stderr.write(`request header: ${JSON.stringify(request.header)}\n`);

  const fail = async (why: string) => {
    await host.stderr.write(`switchboard: ${why}\n`);
    return 1;
  };
  let client: AppClient;
  try {
    client = await AppClient.connect(transport, addr, {
      timeoutMs: timeoutMs || undefined,
      waitMs,
      limits: { maxContent: maxReply },
      ...(tls ? { tls } : {}),
    });
  } catch (err) {
    if (err instanceof ConnectError) return fail(`cannot connect to ${formatAddr(addr)}: ${err.reason}`);
    throw err;
  }
  let reply: AppMessage;
  try {
    const pending = client.request(request);
    client.end(); // one request: tell the server we are done sending
    reply = await pending;
  } catch (err) {
    client.close("abort");
    if (err instanceof SilenceError) return fail(`${formatAddr(addr)}: ${err.message} (--wait); giving up`);
    if (err instanceof AppClientError || err instanceof CodecError) return fail(`${formatAddr(addr)}: ${err.message}`);
    if (err instanceof Error) return fail(`connection to ${formatAddr(addr)} failed: ${err.message}`);
    throw err;
  }
  client.close();
  if (verbose) await host.stderr.write(`reply header: ${JSON.stringify(reply.header)}\n`);
  const d = describe(reply, request, host.stdout.isTerminal());
  if ("error" in d) return fail(d.error);
  await host.stdout.write(d.out);
  return 0;
}

export const requestCommand: Command = {
  name: "request",
  help,
  run,
};
