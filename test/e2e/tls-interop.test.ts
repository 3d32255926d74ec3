// TLS interop with stock peers, on each runtime: `openssl s_client` and a Python `ssl`
// client against `switchboard serve --tls-cert`, and switchboard's clients against
// `openssl s_server`.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, runCli, type RunningServer, startServer } from "../support/cli.ts";
import { type CertFiles, makeCerts, removeCerts } from "../support/certs.ts";
import { waitFor } from "../support/sockets.ts";

let certs: CertFiles;
afterAll(() => removeCerts(certs));
beforeAll(() => {
  certs = makeCerts();
});

/** Run a program with `stdin` written at once; resolves once `done(stdout)` holds, then kills it. */
function converse(
  cmd: string,
  args: string[],
  stdin: string,
  done: (out: string) => boolean,
  what: string,
): Promise<string> {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let failed: Error | undefined;
  child.on("error", (e) => failed = new Error(`this test needs ${cmd}: ${e.message}`));
  child.stdout.on("data", (b: Buffer) => out += b.toString());
  child.stderr.on("data", (b: Buffer) => err += b.toString());
  child.stdin.on("error", () => {});
  child.stdin.write(stdin);
  return waitFor(() => failed !== undefined || done(out), what, 20_000)
    .then(() => {
      if (failed) throw failed;
      return out;
    })
    .catch((e) => {
      throw new Error(`${(e as Error).message}; stdout: ${out}; stderr: ${err}`);
    })
    .finally(() => child.kill("SIGKILL"));
}

const PY_CLIENT = `
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as raw:
    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        payload = bytes(range(256)) * 64
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = s.recv(65536)
            if not chunk: break
            got += chunk
        print(s.version(), "echoed" if got == payload else "MISMATCH %d" % len(got))
`;

describe.each(CLI_RUNTIMES)("stock TLS peers against switchboard serve on %s", (rt) => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer(rt, [
      "--listen",
      "127.0.0.1:0",
      "--tls-cert",
      certs.serverChain,
      "--tls-key",
      certs.serverKey,
    ]);
  });
  afterAll(async () => {
    await s.stop();
  });

  test("openssl s_client: verifies the chain, and its line comes back", async () => {
    const out = await converse(
      "openssl",
      ["s_client", "-connect", `127.0.0.1:${s.port}`, "-CAfile", certs.ca, "-verify_return_error", "-ign_eof"],
      "hello from s_client\n",
      (o) => o.includes("hello from s_client"),
      "the echo through openssl s_client",
    );
    expect(out).toMatch(/Verify return code: 0 \(ok\)/);
  });

  test("a Python ssl client: 16 KiB echoed over TLS", async () => {
    const out = await converse(
      "python3",
      ["-c", PY_CLIENT, String(s.port), certs.ca],
      "",
      (o) => o.includes("\n"),
      "the python ssl client",
    );
    expect(out.trim()).toMatch(/^TLSv1\.[23] echoed$/);
  });
});

describe.each(CLI_RUNTIMES)("switchboard's clients on %s against openssl s_server", (rt) => {
  test("send --tls: the line goes out, s_server's reply (-rev: reversed) comes back", async () => {
    const server = spawn("openssl", [
      "s_server",
      "-accept",
      "127.0.0.1:0",
      "-cert",
      certs.serverCert,
      "-key",
      certs.serverKey,
      "-rev",
      "-naccept",
      "1",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    server.stdout.on("data", (b: Buffer) => out += b.toString());
    server.on("error", (e) => out += `ERROR this test needs openssl: ${e.message}`);
    try {
      await waitFor(() => /ACCEPT 127\.0\.0\.1:\d+/.test(out) || out.includes("ERROR"), "openssl s_server", 10_000);
      const port = Number(/ACCEPT 127\.0\.0\.1:(\d+)/.exec(out)![1]);
      const r = await runCli(rt, ["send", `127.0.0.1:${port}`, "--tls", "--tls-ca", certs.ca, "-w", "10s", "hello"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe("olleh\n");
    } finally {
      server.kill("SIGKILL");
    }
  });
});
