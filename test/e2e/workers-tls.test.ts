// `serve --workers 2` with TLS: SIGHUP to the supervisor reaches every worker. On Node each
// worker reloads the certificate files and new connections (on either worker) see the new
// certificate; Bun and Deno cannot reload (docs/tls.md): every worker says so and all keep
// serving the old one, none dies of the signal.
import { X509Certificate } from "node:crypto";
import { copyFileSync } from "node:fs";
import * as tls from "node:tls";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, type RunningServer, startServer } from "../support/cli.ts";
import { type CertFiles, makeCerts, readText, removeCerts } from "../support/certs.ts";
import { waitFor, withTimeout } from "../support/sockets.ts";

let certs: CertFiles;
afterAll(() => removeCerts(certs));
beforeAll(() => {
  certs = makeCerts();
});

/** The serial number of the certificate a new TLS connection is shown, and the echo of a line over it. */
function servedSerial(port: number): Promise<string> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const c = tls.connect({ host: "127.0.0.1", port, ca: readText(certs.ca) }, () => {
        const serial = c.getPeerCertificate().serialNumber;
        c.end("ping\n");
        let got = "";
        c.on("data", (b: Buffer) => (got += b.toString()));
        c.on("close", () => (got === "ping\n" ? resolve(serial) : reject(new Error(`echo: ${JSON.stringify(got)}`))));
      });
      c.on("error", reject);
    }),
    10_000,
    "a TLS exchange",
  );
}

function serialOf(path: string): string {
  return new X509Certificate(readText(path)).serialNumber;
}

/** Lines matching `re` from each of workers 1 and 2. */
function fromBoth(s: RunningServer, re: RegExp): boolean {
  const lines = s.log().split("\n").filter((l) => re.test(l));
  return [1, 2].every((id) => lines.some((l) => l.includes(`worker=${id}`)));
}

describe.each(CLI_RUNTIMES)("SIGHUP with --workers on %s", (rt) => {
  test(
    rt === "node"
      ? "every worker reloads: new connections see the new certificate"
      : "every worker says it cannot reload, and all go on serving",
    async () => {
      const cert = join(certs.dir, `workers-${rt}.pem`);
      const key = join(certs.dir, `workers-${rt}.key`);
      copyFileSync(certs.serverCert, cert);
      copyFileSync(certs.serverKey, key);
      const s = await startServer(rt, [
        "--workers",
        "2",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        cert,
        "--tls-key",
        key,
        "--log-level",
        "debug",
      ]);
      try {
        // Both workers serve the first certificate (conn-open lines name the worker).
        for (let i = 0; i < 40 && !fromBoth(s, /conn-open/); i++) {
          expect(await servedSerial(s.port)).toBe(serialOf(certs.serverCert));
        }
        expect(fromBoth(s, /conn-open/), "connections on both workers").toBe(true);

        copyFileSync(certs.nextCert, cert);
        copyFileSync(certs.nextKey, key);
        s.child.kill("SIGHUP");
        await waitFor(() => /SIGHUP: reloading TLS in every worker workers=2/.test(s.log()), "the supervisor's line");
        const expected = rt === "node" ? serialOf(certs.nextCert) : serialOf(certs.serverCert);
        if (rt === "node") {
          await waitFor(() => fromBoth(s, /tls reloaded/), "both workers' reload lines");
        } else {
          await waitFor(() => fromBoth(s, /cannot reload the TLS certificate/), "both workers' cannot-reload lines");
        }
        // New connections until both workers have served some since the signal: all see `expected`.
        const mark = s.log().length;
        for (let i = 0; i < 40; i++) {
          expect(await servedSerial(s.port)).toBe(expected);
          const since = s.log().slice(mark);
          if ([1, 2].every((id) => new RegExp(`conn-open.*worker=${id}`).test(since))) break;
        }
        const since = s.log().slice(mark);
        expect([1, 2].map((id) => new RegExp(`conn-open.*worker=${id}`).test(since))).toEqual([true, true]);
        expect(s.log()).not.toMatch(/worker exited/);
      } finally {
        expect((await s.stop()).code).toBe(0);
      }
    },
  );
});
