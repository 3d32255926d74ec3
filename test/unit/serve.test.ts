// serve(): one-call start-up through the entry of the runtime this test runs on
// (switchboard/node, /bun or /deno), with a framed service written against the root entry.
import { beforeAll, expect, test } from "vitest";
import * as sb from "../../src/index.ts";
import type { ServeHandle, ServeOptions } from "../../src/serve.ts";
import { detectRuntime } from "../support/runtime.ts";
import { exchange, waitFor } from "../support/sockets.ts";

let serve: (o: ServeOptions) => Promise<ServeHandle>;
let transport: sb.Transport;
beforeAll(async () => {
  const rt = detectRuntime();
  const entry = rt === "bun"
    ? await import("../../adapters/bun/index.ts").then((m) => ({ serve: m.serve, transport: m.bunTransport }))
    : rt === "deno"
    ? await import("../../adapters/deno/index.ts").then((m) => ({ serve: m.serve, transport: m.denoTransport }))
    : await import("../../adapters/node/index.ts").then((m) => ({ serve: m.serve, transport: m.nodeTransport }));
  serve = entry.serve;
  transport = entry.transport;
});

const text = new TextEncoder();
const lines: string[] = [];
const log = sb.createLogger({ write: (l) => Promise.resolve(void lines.push(String(l))) });

/** Lines the handler of `upper()` has started on. */
let started = 0;

/** Upper-cases each line; with `hold`, replies wait until it is resolved. */
function upper(hold?: Promise<void>): sb.Service {
  return sb.framedService<string, string>({
    name: "upper",
    decoder: (ctx) => sb.textLines({ maxLength: ctx.options.maxFrame }),
    handle: async (line) => {
      started++;
      await hold;
      return line.toUpperCase();
    },
  });
}

test("serve() binds every address given (string and Addr), answers on each, and shuts down", async () => {
  const h = await serve({
    listen: ["127.0.0.1:0", { transport: "tcp", hostname: "127.0.0.1", port: 0 }],
    service: upper(),
    log,
    idleMs: 5000,
  });
  expect(h.addrs).toHaveLength(2);
  for (const addr of h.addrs) {
    expect(addr.transport === "tcp" && addr.port > 0).toBe(true);
    const r = await exchange(transport, addr, text.encode("hello\r\nswitch"));
    expect(new TextDecoder().decode(r.received)).toBe("HELLO\nSWITCH\n");
  }
  expect(h.server.options.idleMs).toBe(5000);
  expect(lines.filter((l) => l.includes("listening") && l.includes("service=upper"))).toHaveLength(2);
  await h.shutdown();
  await h.finished;
  expect(h.server.connections).toBe(0);
  expect(lines.at(-1)).toMatch(/INFO +stopped service=upper accepted=2 refused=0/);
  await expect(sb.AppClient.connect(transport, h.addrs[0]!)).rejects.toThrow(/ECONNREFUSED/);
});

test("shutdown() is graceful: a request in flight is answered before the connection closes", async () => {
  let release!: () => void;
  const hold = new Promise<void>((r) => (release = r));
  const h = await serve({ listen: "127.0.0.1:0", service: upper(hold), log: sb.silentLogger });
  const before = started;
  const reply = exchange(transport, h.addrs[0]!, text.encode("late\n"), { halfClose: false });
  // In flight, not merely connected: a connection with nothing in flight is closed at once.
  await waitFor(() => started === before + 1, "the request to reach the handler");
  const stopped = h.shutdown();
  release();
  await stopped;
  expect(new TextDecoder().decode((await reply).received)).toBe("LATE\n");
});

test("an AbortSignal stops it like shutdown(); an aborted one refuses to start", async () => {
  const ac = new AbortController();
  const h = await serve({ listen: "127.0.0.1:0", service: upper(), log: sb.silentLogger, signal: ac.signal });
  ac.abort();
  await h.finished;
  expect(h.server.draining).toBe(true);
  await expect(serve({ listen: ":0", service: upper(), log: sb.silentLogger, signal: ac.signal })).rejects.toThrow(
    /aborted/,
  );
});

test("bad options are refused by name, before anything is bound", async () => {
  const service = upper();
  const quiet = sb.silentLogger;
  await expect(serve({ listen: "127.0.0.1:0", service, log: quiet, maxConns: Number.NaN })).rejects.toThrow(
    /maxConns must be a whole number >= 1, got NaN/,
  );
  await expect(serve({ listen: "127.0.0.1:0", service, log: quiet, ...{ maxConn: 5 } })).rejects.toThrow(
    /unknown option "maxConn"/,
  );
  await expect(serve({ listen: "nowhere", service, log: quiet })).rejects.toThrow(/bad address "nowhere"/);
  await expect(serve({ listen: [], service, log: quiet })).rejects.toThrow(/names no address/);
});

test("start-up is all or nothing: a second address in use releases the first", async () => {
  const first = await serve({ listen: "127.0.0.1:0", service: upper(), log: sb.silentLogger });
  const busy = sb.formatAddr(first.addrs[0]!);
  const free = await serve({ listen: "127.0.0.1:0", service: upper(), log: sb.silentLogger });
  const freeAddr = sb.formatAddr(free.addrs[0]!);
  await free.shutdown(); // its port is now free: the failed start must leave it so
  await expect(serve({ listen: [freeAddr, busy], service: upper(), log: sb.silentLogger })).rejects.toThrow(
    /EADDRINUSE/,
  );
  const again = await serve({ listen: freeAddr, service: upper(), log: sb.silentLogger });
  await again.shutdown();
  await first.shutdown();
});
