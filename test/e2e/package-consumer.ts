// Consumer sources for test/e2e/package.test.ts, kept as text: they import the installed
// package by name, which only resolves inside the test's temporary project.

/**
 * Serves echo on 127.0.0.1:0 with the adapter of the runtime it runs on, twice (Server, and
 * the entry's serve(), which logs its own `listening` line); stops at EOF on stdin.
 */
export const CONSUMER = `
import { createLogger, echoService, formatAddr, parseAddr, Server, type Transport } from "switchboard";
import { type Host, runCli } from "switchboard/cli";
import { nodeHost, nodeTransport, serve } from "switchboard/node";

const g = globalThis as { Bun?: unknown; Deno?: unknown };
const [transport, host, serveHere]: [Transport, Host, typeof serve] = g.Bun
  ? await import("switchboard/bun").then((m): [Transport, Host, typeof serve] => [m.bunTransport, m.bunHost, m.serve])
  : g.Deno
  ? await import("switchboard/deno").then((m): [Transport, Host, typeof serve] => [m.denoTransport, m.denoHost, m.serve])
  : [nodeTransport, nodeHost, serve];

if (typeof runCli !== "function") throw new Error("switchboard/cli has no runCli");

// The long way (Server + a transport), and the one-call serve() of the runtime's entry.
const log = createLogger(host.stderr);
const server = new Server({ transport, service: echoService, log });
const listener = await server.listen(parseAddr("127.0.0.1:0"));
log.info("listening", { addr: formatAddr(listener.addr), runtime: transport.runtime });
const handle = await serveHere({ listen: "127.0.0.1:0", service: echoService, idleMs: 5_000 });
for await (const _chunk of host.stdin()) {
  // the test closes stdin to stop the servers
}
await Promise.all([server.shutdown(), handle.shutdown()]);
await host.exit(0);
`;

/** Mistakes the package's declarations must catch (runCli is in switchboard/cli, not the core). */
export const CONSUMER_WITH_TYPE_ERRORS = `
import { nodeTransport } from "switchboard/node";
import { noSuchExport } from "switchboard";
import { runCli } from "switchboard";
const n: number = nodeTransport;
console.log(n, noSuchExport, runCli);
`;
