// What a TLS server refuses, on each runtime: plaintext, garbage handshake bytes, old
// protocol versions, missing or untrusted client certificates. Each refusal is one log
// line, and the server goes on serving (a TLS probe afterwards gets its echo).
import { spawnSync } from "node:child_process";
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, runCli, type RunningServer, startServer } from "../support/cli.ts";
import { type CertFiles, makeCerts, removeCerts } from "../support/certs.ts";
import { waitFor } from "../support/sockets.ts";

let certs: CertFiles;
afterAll(() => removeCerts(certs));
beforeAll(() => {
  certs = makeCerts();
});

const tlsServe = () => ["--tls-cert", certs.serverChain, "--tls-key", certs.serverKey];

/** Send raw bytes over plain TCP and wait for the server to close. */
function rawBytes(port: number, bytes: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => s.write(bytes));
    s.on("data", () => {});
    s.on("error", () => resolve()); // a reset is a refusal too
    s.on("close", () => resolve());
    setTimeout(() => {
      s.destroy();
      reject(new Error("the server did not close a connection that sent non-TLS bytes"));
    }, 20_000);
  });
}

/** `openssl s_client` with extra flags; resolves with what it printed (status and output). */
function sClient(port: number, args: string[]): { status: number | null; out: string } {
  const r = spawnSync("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", certs.ca, ...args], {
    input: "",
    encoding: "utf8",
    timeout: 20_000,
  });
  if (r.error) throw new Error(`this test needs the openssl command: ${r.error.message}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

async function probe(rt: (typeof CLI_RUNTIMES)[number], s: RunningServer, extra: string[] = []): Promise<void> {
  const r = await runCli(rt, ["send", `127.0.0.1:${s.port}`, "--tls", "--tls-ca", certs.ca, ...extra, "probe"]);
  expect(r.stderr).toBe("");
  expect(r.stdout.toString()).toBe("probe\n");
}

const refusalLines = (s: RunningServer) =>
  s.log().split("\n").filter((l) => l.includes("tls: ") && !l.includes(" DEBUG "));

describe.each(CLI_RUNTIMES)("a TLS server on %s refuses, logs and goes on", (rt) => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer(rt, ["--listen", "127.0.0.1:0", ...tlsServe()]);
  });
  afterAll(async () => {
    await s.stop();
  });

  test("plaintext bytes (an HTTP request) to the TLS port", async () => {
    const before = refusalLines(s).length;
    await rawBytes(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await waitFor(() => refusalLines(s).length > before, "a log line for the plaintext peer", 10_000);
    expect(refusalLines(s).at(-1)).toMatch(/connection error .*tls: handshake failed/);
    await probe(rt, s);
  });

  test("garbage handshake bytes (a TLS record header, then nonsense)", async () => {
    const before = refusalLines(s).length;
    await rawBytes(s.port, new Uint8Array([0x16, 0x03, 0x01, 0x00, 0x20, ...new Array(32).fill(0x41)]));
    await waitFor(() => refusalLines(s).length > before, "a log line for the garbage handshake", 10_000);
    expect(refusalLines(s).at(-1)).toMatch(/tls: handshake failed/);
    await probe(rt, s);
  });

  for (const old of ["-tls1", "-tls1_1"]) {
    test(`a client that speaks only ${old === "-tls1" ? "TLS 1.0" : "TLS 1.1"} (openssl s_client ${old})`, async () => {
      const before = refusalLines(s).length;
      // openssl 3 refuses TLS < 1.2 at its default security level: lower it for the client.
      const r = sClient(s.port, [old, "-cipher", "DEFAULT@SECLEVEL=0"]);
      expect(r.out).toMatch(/Cipher is \(NONE\)|alert protocol version|no protocols available/);
      await waitFor(() => refusalLines(s).length > before, "a log line for the old protocol version", 10_000);
      await probe(rt, s);
    });
  }

  test("TLS 1.2 and 1.3 are accepted (openssl s_client -tls1_2, -tls1_3)", () => {
    expect(sClient(s.port, ["-tls1_2"]).out).toMatch(/Protocol *: TLSv1\.2[\s\S]*Verify return code: 0 \(ok\)/);
    expect(sClient(s.port, ["-tls1_3"]).out).toMatch(/TLSv1\.3[\s\S]*Verify return code: 0 \(ok\)/);
  });
});

describe.each(CLI_RUNTIMES)("--tls-alpn on %s", (rt) => {
  test("the protocol a client offers from the list is agreed; one not in it is not", async () => {
    const s = await startServer(rt, ["--listen", "127.0.0.1:0", ...tlsServe(), "--tls-alpn", "foo,bar"]);
    try {
      expect(sClient(s.port, ["-alpn", "bar"]).out).toMatch(/ALPN protocol: bar/);
      expect(sClient(s.port, ["-alpn", "baz"]).out).not.toMatch(/ALPN protocol: baz/);
    } finally {
      await s.stop();
    }
  });
});

describe.each(CLI_RUNTIMES)("client certificates and --tls-min on %s", (rt) => {
  const auth = (mode: string) => [...tlsServe(), "--tls-client-auth", mode, "--tls-client-ca", certs.ca];
  const mine = () => ["--tls-cert", certs.clientCert, "--tls-key", certs.clientKey];

  if (rt === "deno") {
    test("Deno cannot ask for client certificates or raise the minimum: serve refuses the flags", async () => {
      for (const args of [auth("require"), auth("request"), [...tlsServe(), "--tls-min", "1.3"]]) {
        const r = await runCli(rt, ["serve", "--listen", "127.0.0.1:0", ...args]);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/is not supported on deno/);
      }
    });
    return;
  }

  test("require: no certificate and an untrusted one are refused with a log line; a good one is served", async () => {
    const s = await startServer(rt, ["--listen", "127.0.0.1:0", "--log-level", "debug", ...auth("require")]);
    try {
      const before = refusalLines(s).length;
      const none = await runCli(rt, ["send", `127.0.0.1:${s.port}`, "--tls", "--tls-ca", certs.ca, "hi"]);
      const refused = `switchboard: 127.0.0.1:${s.port}: connection failed: ` +
        "tls: the server refused our client certificate, or needed one (ECERTREFUSED)\n";
      // TLS 1.3: the client's handshake is done before the server judges its certificate, so
      // the refusal (an alert, or a reset) comes after connect; it reads the same either way,
      // on every client runtime (test/e2e/tls-client-refused.test.ts runs each against each).
      expect({ code: none.code, err: none.stderr }).toEqual({ code: 1, err: refused });
      const other = await runCli(rt, [
        "send",
        `127.0.0.1:${s.port}`,
        "--tls",
        "--tls-ca",
        certs.ca,
        "--tls-cert",
        certs.otherCert,
        "--tls-key",
        certs.otherKey,
        "hi",
      ]);
      expect({ code: other.code, out: other.stdout.toString(), err: other.stderr }).toEqual({
        code: 1,
        out: "",
        err: refused,
      });
      await waitFor(() => refusalLines(s).length >= before + 2, "a log line per refused client", 10_000);
      for (const line of refusalLines(s).slice(before)) expect(line).toMatch(/connection error .*tls: /);
      // The refused clients' request bytes never reached the service.
      const refusedCloses = s.log().split("\n").filter((l) => l.includes("conn-close") && l.includes("reason=error"));
      expect(refusedCloses.length).toBeGreaterThanOrEqual(2);
      for (const line of refusedCloses) expect(line).toMatch(/bytes_in=0 bytes_out=0/);
      await probe(rt, s, mine());
    } finally {
      await s.stop();
    }
  });

  test("request: a client without a certificate is served too", async () => {
    const s = await startServer(rt, ["--listen", "127.0.0.1:0", ...auth("request")]);
    try {
      await probe(rt, s);
      await probe(rt, s, mine());
    } finally {
      await s.stop();
    }
  });

  test("--tls-min 1.3 refuses a TLS 1.2 client", async () => {
    const s = await startServer(rt, ["--listen", "127.0.0.1:0", ...tlsServe(), "--tls-min", "1.3"]);
    try {
      expect(sClient(s.port, ["-tls1_2"]).out).toMatch(/Cipher is \(NONE\)|alert protocol version/);
      expect(sClient(s.port, ["-tls1_3"]).out).toMatch(/TLSv1\.3/);
      await probe(rt, s);
    } finally {
      await s.stop();
    }
  });
});
