// Consumer sources for test/e2e/package.test.ts, kept as text: they import the installed
// package by name, which only resolves inside the test's temporary project.

/** Serves echo on 127.0.0.1:0 with the adapter of the runtime it runs on; stops at EOF on stdin. */
export const CONSUMER = `
import { createLogger, echoService, formatAddr, type Host, parseAddr, Server, type Transport } from "switchboard";
import { nodeHost, nodeTransport } from "switchboard/node";

const g = globalThis as { Bun?: unknown; Deno?: unknown };
const [transport, host]: [Transport, Host] = g.Bun
  ? await import("switchboard/bun").then((m): [Transport, Host] => [m.bunTransport, m.bunHost])
  : g.Deno
  ? await import("switchboard/deno").then((m): [Transport, Host] => [m.denoTransport, m.denoHost])
  : [nodeTransport, nodeHost];

const log = createLogger(host.stderr);
const server = new Server({ transport, service: echoService, log });
const listener = await server.listen(parseAddr("127.0.0.1:0"));
log.info("listening", { addr: formatAddr(listener.addr), runtime: transport.runtime });
for await (const _chunk of host.stdin()) {
  // the test closes stdin to stop the server
}
await server.shutdown();
await host.exit(0);
`;

/** Two mistakes the package's declarations must catch. */
export const CONSUMER_WITH_TYPE_ERRORS = `
import { nodeTransport } from "switchboard/node";
import { noSuchExport } from "switchboard";
const n: number = nodeTransport;
console.log(n, noSuchExport);
`;
