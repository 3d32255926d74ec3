// The admin endpoint counts what the other features refuse or cut, on every runtime with
// the real CLI: a TLS handshake that never finishes closes as `handshake-timeout`, and with
// --proxy-protocol an untrusted source and a bad header are refusals by their own reason.
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, type CliRuntime, startServer } from "../support/cli.ts";
import { adminAddr, getText, pollUntil, sample } from "../support/admin.ts";
import { type CertFiles, makeCerts, removeCerts } from "../support/certs.ts";

let certs: CertFiles;
afterAll(() => removeCerts(certs));
beforeAll(() => {
  certs = makeCerts();
});

/** Open a TCP connection, optionally send `bytes`, and resolve once the server has closed it. */
function closedByServer(port: number, bytes?: string): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => {
      if (bytes !== undefined) s.write(bytes);
    });
    s.on("error", () => {});
    s.on("close", () => resolve());
  });
}

describe.each(CLI_RUNTIMES)("admin counts TLS and PROXY outcomes on %s", (runtime: CliRuntime) => {
  test("a handshake that never finishes is closed as handshake-timeout on /metrics", async () => {
    const server = await startServer(runtime, [
      "--listen",
      "127.0.0.1:0",
      "--admin",
      "127.0.0.1:0",
      "--tls-cert",
      certs.serverCert,
      "--tls-key",
      certs.serverKey,
      "--handshake-timeout",
      "300ms",
    ]);
    try {
      const addr = await adminAddr(server);
      // TCP only: not a byte of the handshake. Not waited on to close: Deno keeps the socket
      // of a cut handshake open (docs/tls.md), though switchboard has closed the connection.
      const stalled = net.connect({ host: "127.0.0.1", port: server.port });
      stalled.on("error", () => {});
      try {
        const metric = 'switchboard_connections_closed_total{reason="handshake-timeout"}';
        await pollUntil(
          async () => sample(await getText(addr, "/metrics"), metric),
          (n) => n === 1,
          "one handshake-timeout close",
        );
        expect(sample(await getText(addr, "/metrics"), "switchboard_connections_accepted_total")).toBe(1);
      } finally {
        stalled.destroy();
      }
    } finally {
      await server.stop();
    }
  });

  test("--proxy-protocol: an untrusted source and a bad header are refusals by reason", async () => {
    const trusted = await startServer(runtime, [
      "--listen",
      "127.0.0.1:0",
      "--admin",
      "127.0.0.1:0",
      "--proxy-protocol",
    ]);
    const strict = await startServer(runtime, [
      "--listen",
      "127.0.0.1:0",
      "--admin",
      "127.0.0.1:0",
      "--proxy-protocol",
      "--proxy-trusted",
      "10.0.0.0/8",
    ]);
    try {
      const refusedBy = (reason: string) => `switchboard_connections_refused_total{reason="${reason}"}`;
      await closedByServer(trusted.port, "GET / HTTP/1.0\r\n\r\n"); // not a PROXY header
      const a = await adminAddr(trusted);
      await pollUntil(
        async () => sample(await getText(a, "/metrics"), refusedBy("proxy-header")),
        (n) => n === 1,
        "one proxy-header refusal",
      );

      await closedByServer(strict.port); // 127.0.0.1 is not in 10.0.0.0/8
      const b = await adminAddr(strict);
      await pollUntil(
        async () => sample(await getText(b, "/metrics"), refusedBy("proxy-untrusted")),
        (n) => n === 1,
        "one proxy-untrusted refusal",
      );
      const status = JSON.parse(await getText(b, "/status.json"));
      expect(status.refusedByReason["proxy-untrusted"]).toBe(1);
    } finally {
      await Promise.all([trusted.stop(), strict.stop()]);
    }
  });
});
