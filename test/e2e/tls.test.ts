// TLS as users run it: `serve --tls-cert/--tls-key` on each runtime and `send`/`request
// --tls` on each runtime, all nine client/server pairs; the app protocol and framed echo
// over TLS; client-side verification failures, the same line on every runtime.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, type CliRuntime, runCli, type RunningServer, startServer } from "../support/cli.ts";
import { type CertFiles, makeCerts, removeCerts } from "../support/certs.ts";
import { pattern } from "../support/sockets.ts";

let certs: CertFiles;
afterAll(() => removeCerts(certs));
const servers = new Map<CliRuntime, RunningServer>();

const tlsServe = (cert = certs.serverChain, key = certs.serverKey) => ["--tls-cert", cert, "--tls-key", key];
const trust = () => ["--tls", "--tls-ca", certs.ca];

beforeAll(async () => {
  certs = makeCerts();
  await Promise.all(CLI_RUNTIMES.map(async (rt) => {
    servers.set(rt, await startServer(rt, ["--listen", "127.0.0.1:0", ...tlsServe()]));
  }));
});

afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s.stop()));
});

describe("TLS echo: every client runtime against every server runtime", () => {
  for (const server of CLI_RUNTIMES) {
    for (const client of CLI_RUNTIMES) {
      test(`${client} send --tls -> ${server} serve --tls-cert: 8 MiB, then half-close, all echoed`, async () => {
        const s = servers.get(server)!;
        const payload = pattern(8 * 1024 * 1024, 7);
        const r = await runCli(client, ["send", `127.0.0.1:${s.port}`, ...trust()], {
          stdin: payload,
          timeoutMs: 60_000,
        });
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout.length).toBe(payload.length);
        expect(Buffer.compare(r.stdout, Buffer.from(payload))).toBe(0);
      });
    }
  }
});

describe.each(CLI_RUNTIMES)("services over TLS on %s", (rt) => {
  test("the app protocol: request --tls gets its search reply", async () => {
    const s = await startServer(rt, ["--listen", "127.0.0.1:0", "--service", "app", ...tlsServe()]);
    try {
      const r = await runCli(rt, ["request", `127.0.0.1:${s.port}`, ...trust(), "search", "ring"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toContain("Misty Mountains"); // the built-in dictionary's answer
    } finally {
      await s.stop();
    }
  });

  test("framed echo (lp:u32): every frame comes back over TLS", async () => {
    const s = await startServer(rt, ["--listen", "127.0.0.1:0", "--framing", "lp:u32", ...tlsServe()]);
    try {
      const r = await runCli(rt, ["send", `127.0.0.1:${s.port}`, ...trust(), "--framing", "lp:u32", "one", "two"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe("one\ntwo\n");
    } finally {
      await s.stop();
    }
  });

  test("daytime writes at once on open: the reply waits for the handshake and arrives", async () => {
    const s = await startServer(rt, ["--listen", "127.0.0.1:0", "--service", "daytime", ...tlsServe()]);
    try {
      const r = await runCli(rt, ["send", `127.0.0.1:${s.port}`, ...trust()]);
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toMatch(/\d{4}/);
    } finally {
      await s.stop();
    }
  });
});

describe.each(CLI_RUNTIMES)("client verification on %s: one line naming the name and the reason, exit 1", (rt) => {
  const cases: [string, () => string[], () => string[], (port: number) => string][] = [
    [
      "a certificate from an unknown CA",
      () => tlsServe(certs.otherCert, certs.otherKey),
      () => trust(),
      (p) =>
        `cannot connect to 127.0.0.1:${p}: tls: certificate for 127.0.0.1 is not trusted: unknown CA (ECERTUNTRUSTED)`,
    ],
    [
      "an expired certificate",
      () => tlsServe(certs.expiredCert, certs.expiredKey),
      () => trust(),
      (p) => `cannot connect to 127.0.0.1:${p}: tls: certificate for 127.0.0.1 has expired (ECERTEXPIRED)`,
    ],
    [
      "a certificate for another name",
      () => tlsServe(certs.wrongNameCert, certs.wrongNameKey),
      () => trust(),
      (p) => `cannot connect to 127.0.0.1:${p}: tls: certificate is not valid for 127.0.0.1: wrong name (ECERTNAME)`,
    ],
    [
      "--tls-servername that the certificate does not name",
      () => tlsServe(),
      () => [...trust(), "--tls-servername", "elsewhere.test"],
      (p) =>
        `cannot connect to 127.0.0.1:${p}: tls: certificate is not valid for elsewhere.test: wrong name (ECERTNAME)`,
    ],
  ];
  for (const [what, serverArgs, clientArgs, line] of cases) {
    test(what, async () => {
      const s = await startServer("node", ["--listen", "127.0.0.1:0", ...serverArgs()]);
      try {
        const r = await runCli(rt, ["send", `127.0.0.1:${s.port}`, ...clientArgs(), "hello"]);
        expect(r.stderr).toBe(`switchboard: ${line(s.port)}\n`);
        expect(r.code).toBe(1);
        expect(r.stdout.length).toBe(0);
      } finally {
        await s.stop();
      }
    });
  }

  test("--tls-servername localhost verifies a 127.0.0.1 connection against the name", async () => {
    const s = servers.get("node")!;
    const r = await runCli(rt, ["send", `127.0.0.1:${s.port}`, ...trust(), "--tls-servername", "localhost", "hi"]);
    expect(r.stderr).toBe("");
    expect(r.stdout.toString()).toBe("hi\n");
  });

  test("--insecure: warned, and only where the runtime can skip verification", async () => {
    const s = servers.get("node")!;
    const r = await runCli(rt, ["send", `127.0.0.1:${s.port}`, "--tls", "--insecure", "hi"]);
    if (rt === "deno") {
      // Deno.connectTls/startTls cannot skip verification: refused, not ignored.
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("--insecure is not supported on deno");
    } else {
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("switchboard: warning: --insecure: the server's certificate is not verified\n");
      expect(r.stdout.toString()).toBe("hi\n");
    }
  });

  test("TLS flags without --tls, and a missing CA file, are clear errors", async () => {
    const a = await runCli(rt, ["send", "127.0.0.1:1", "--tls-ca", certs.ca, "hi"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("--tls-ca needs --tls");
    const b = await runCli(rt, ["send", "127.0.0.1:1", "--tls", "--tls-ca", `${certs.dir}/missing.pem`, "hi"]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/cannot read --tls-ca ".*missing\.pem": no such file or directory \(ENOENT\)/);
  });
});
