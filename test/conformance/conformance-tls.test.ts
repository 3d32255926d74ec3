// The whole transport conformance suite a second time, over TLS (the runtime's own TLS:
// node:tls, Deno.listenTls/connectTls, Bun.listen/connect with tls). Checks whose peer or
// listener is not this transport (a python process speaking plain TCP, a unix socket) do
// not apply; each is named with its reason in tls-exceptions.ts.
import { beforeAll, describe, test } from "vitest";
import type { Transport } from "../../src/transport.ts";
import { makeCerts, readText, removeCerts } from "../support/certs.ts";
import { detectRuntime, loadRuntime } from "../support/runtime.ts";
import { checks } from "./checks.ts";
import { overTls } from "./tls-transport.ts";
import { notOverTls } from "./tls-exceptions.ts";

let transport: Transport;
beforeAll(async () => {
  const certs = makeCerts();
  const plain = (await loadRuntime()).transport;
  transport = overTls(
    plain,
    { cert: readText(certs.serverChain), key: readText(certs.serverKey) },
    { ca: readText(certs.ca) },
  );
  removeCerts(certs); // read into memory above
});

const runtime = detectRuntime();
describe(`transport conformance over TLS on ${runtime}`, () => {
  for (const [name, check] of Object.entries(checks)) {
    const why = notOverTls(runtime)[name];
    if (why !== undefined) test.skip(`${name} (not over TLS: ${why})`, () => {});
    else test(name, () => check({ t: transport, timeoutMs: 30_000 }));
  }
});
