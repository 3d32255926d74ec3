// `switchboard bench --tls` and `--proxy` on every runtime, against real `switchboard serve`
// children: every mode (echo, connect, stream, hold, framed, app) completes over TLS with
// every reply verified, connect mode with a full handshake each; an untrusted certificate
// and a refused client certificate are connect errors saying so (exit 1); a PROXY header
// is sent on every connection and accepted by `serve --proxy-protocol`, and the same
// server without the header is a failed run, not a success.
import { readFileSync } from "node:fs";
import { createServer as createTlsServer, type Server as TlsServer } from "node:tls";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, type CliRuntime, runCli, type RunningServer, startServer } from "../support/cli.ts";
import { type CertFiles, makeCerts, removeCerts } from "../support/certs.ts";
import { waitFor } from "../support/sockets.ts";
import { NO_ERRORS, parseBenchJson } from "../support/bench-result.ts";

let certs: CertFiles;
afterAll(() => removeCerts(certs));
const servers: RunningServer[] = [];
let tlsAddr: string;
let mtlsAddr: string;
let appAddr: string;
let framedAddr: string;

const serve = async (args: string[]) => {
  const s = await startServer("node", ["--listen", "127.0.0.1:0", ...args]);
  servers.push(s);
  return s;
};

beforeAll(async () => {
  certs = makeCerts();
  const tls = ["--tls-cert", certs.serverChain, "--tls-key", certs.serverKey];
  const started = await Promise.all([
    serve(tls),
    serve([...tls, "--tls-client-ca", certs.ca, "--tls-client-auth", "require"]),
    serve([...tls, "--service", "app"]),
    serve([...tls, "--framing", "lp:u32"]),
  ]);
  [tlsAddr, mtlsAddr, appAddr, framedAddr] = started.map((s) => `127.0.0.1:${s.port}`) as [
    string,
    string,
    string,
    string,
  ];
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

describe.each(CLI_RUNTIMES)("bench --tls on %s", (runtime: CliRuntime) => {
  const trust = () => ["--tls", "--tls-ca", certs.ca];

  test("every mode against serve --tls-cert: exit 0, every reply verified, the JSON says tls", async () => {
    const runs: [string, string, string[]][] = [
      [tlsAddr, "echo", []],
      [tlsAddr, "connect", []],
      [tlsAddr, "stream", ["--size", "16KiB"]],
      [tlsAddr, "hold", []],
      [framedAddr, "framed", ["--framing", "lp:u32", "--size", "1KiB"]],
      [appAddr, "app", []],
      [appAddr, "app", ["--new-conn"]],
    ];
    for (const [addr, mode, extra] of runs) {
      const r = await runCli(runtime, [
        "bench",
        addr,
        ...trust(),
        "--mode",
        mode,
        ...extra,
        "-c",
        "3",
        "-d",
        "500ms",
        "--json",
      ]);
      expect({ mode, code: r.code, err: r.stderr }).toEqual({ mode, code: 0, err: "" });
      const res = parseBenchJson(r.stdout);
      expect([res.mode, res.tls, res.proxy]).toEqual([mode, true, null]);
      expect(res.errors).toEqual(NO_ERRORS);
      expect(res.requests).toBeGreaterThan(0);
      if (mode === "hold") expect([res.connections_opened, res.connections_alive]).toEqual([3, 3]);
      // raw echo: every byte sent came back through TLS (framed and app replies carry their own headers)
      else if (addr === tlsAddr) expect(res.bytes_in).toBe(res.bytes_out);
    }
  });

  test("connect mode: every connection is a full handshake (the server sees no session resumed)", async () => {
    // a node:tls echo server in this process, which can tell a resumed session from a new one
    let handshakes = 0;
    let resumed = 0;
    const server: TlsServer = createTlsServer(
      { cert: readFileSync(certs.serverChain), key: readFileSync(certs.serverKey) },
      (s) => {
        handshakes++;
        if (s.isSessionReused()) resumed++;
        s.on("error", () => {});
        s.pipe(s);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const r = await runCli(runtime, [
        "bench",
        `127.0.0.1:${port}`,
        ...trust(),
        "--mode",
        "connect",
        "-c",
        "2",
        "-d",
        "500ms",
        "--json",
      ]);
      expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: "" });
      const res = parseBenchJson(r.stdout);
      expect(res.requests).toBeGreaterThan(1);
      expect(handshakes).toBeGreaterThanOrEqual(res.requests);
      expect(resumed).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("the human summary names TLS", async () => {
    const r = await runCli(runtime, ["bench", tlsAddr, ...trust(), "--mode", "connect", "-c", "2", "-d", "300ms"]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(
      new RegExp(`^bench connect ${tlsAddr.replace(/\./g, "\\.")} \\(${runtime}, tls\\): 2 connections`),
    );
  });

  test("a certificate not trusted (no --tls-ca): connect errors saying so, exit 1", async () => {
    const r = await runCli(runtime, ["bench", tlsAddr, "--tls", "-c", "2", "-d", "300ms", "--json"]);
    expect(r.code).toBe(1);
    const res = parseBenchJson(r.stdout);
    expect(res.requests).toBe(0);
    expect(res.errors.connect).toBeGreaterThan(0);
    expect(res.errors).toEqual({ ...NO_ERRORS, connect: res.errors.connect });
    expect(res.error_examples).toEqual([
      `connect: cannot connect to ${tlsAddr}: tls: certificate for 127.0.0.1 is not trusted: unknown CA (ECERTUNTRUSTED)`,
    ]);
  });

  test("mutual TLS: with a client certificate every request passes; without, the run fails", async () => {
    const mine = ["--tls-cert", certs.clientCert, "--tls-key", certs.clientKey];
    const ok = await runCli(runtime, ["bench", mtlsAddr, ...trust(), ...mine, "-c", "2", "-d", "300ms", "--json"]);
    expect({ code: ok.code, err: ok.stderr }).toEqual({ code: 0, err: "" });
    expect(parseBenchJson(ok.stdout).errors).toEqual(NO_ERRORS);

    const none = await runCli(runtime, ["bench", mtlsAddr, ...trust(), "-c", "2", "-d", "300ms", "--json"]);
    expect(none.code).toBe(1);
    const res = parseBenchJson(none.stdout);
    expect(res.requests).toBe(0);
    // Deno and Bun hear the server's refusal; a Node client under TLS 1.3 often sees only a
    // close (docs/tls.md, known gaps), which bench counts as a reset
    if (runtime === "node") expect(res.errors.connect + res.errors.reset).toBeGreaterThan(0);
    else {
      expect(res.errors.connect).toBeGreaterThan(0);
      expect(res.error_examples[0]).toMatch(/^connect: tls: the server refused our client certificate/);
    }
  });

  test("--insecure: refused with exit 2 where the runtime cannot (Deno), else run with its warning", async () => {
    const r = await runCli(runtime, ["bench", tlsAddr, "--tls", "--insecure", "-c", "1", "-d", "200ms", "--json"]);
    if (runtime === "deno") {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^switchboard: --insecure is not supported on deno \(see docs\/tls\.md\)/);
      expect(r.stdout.toString()).toBe("");
    } else {
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("switchboard: warning: --insecure: the server's certificate is not verified\n");
      expect(parseBenchJson(r.stdout).errors).toEqual(NO_ERRORS);
    }
  });

  test("TLS, PROXY and connect-timeout mistakes are usage errors (exit 2, one line) or one line naming the file (exit 1)", async () => {
    const cases: [string[], number, RegExp][] = [
      [["--tls-ca", certs.ca], 2, /--tls-ca needs --tls/],
      [["--tls", "--proxy", "v2"], 2, /--proxy with --tls: not supported/],
      [["--proxy", "v3"], 2, /--proxy: expected one of v1, v2/],
      [["--proxy-source", "203.0.113.7:1"], 2, /--proxy-source needs --proxy/],
      [["--tls", "--tls-cert", certs.clientCert], 2, /--tls-cert and --tls-key go together/],
      [["--tls", "--tls-ca", "/nonexistent/ca.pem"], 1, /cannot read --tls-ca "\/nonexistent\/ca\.pem"/],
      [["--tls", "--tls-ca", certs.ca, "-t", "0"], 2, /--timeout: must be longer than 0/],
    ];
    for (const [args, code, want] of cases) {
      const r = await runCli(runtime, ["bench", tlsAddr, "-d", "200ms", ...args]);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(want);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    }
    const unix = await runCli(runtime, ["bench", "unix:/tmp/sb-none.sock", "--tls", "-d", "200ms"]);
    expect(unix.code).toBe(2);
    expect(unix.stderr).toMatch(/--tls: TLS is TCP only/);
  });
});

describe.each(CLI_RUNTIMES)("bench --proxy on %s", (runtime: CliRuntime) => {
  let proxied: RunningServer;
  let addr: string;
  beforeAll(async () => {
    proxied = await serve(["--proxy-protocol", "--log-level", "debug"]);
    addr = `127.0.0.1:${proxied.port}`;
  });

  test("--proxy v2 against serve --proxy-protocol: exit 0, and the server took the announced client", async () => {
    for (const mode of ["echo", "connect"]) {
      const source = mode === "echo" ? "203.0.113.7:5555" : "[2001:db8::7]:6666";
      const args = ["--proxy", "v2", "--proxy-source", source, "--mode", mode, "-c", "2", "-d", "300ms", "--json"];
      const r = await runCli(runtime, ["bench", addr, ...args]);
      expect({ mode, code: r.code, err: r.stderr }).toEqual({ mode, code: 0, err: "" });
      const res = parseBenchJson(r.stdout);
      expect([res.proxy, res.tls]).toEqual(["v2", false]);
      expect(res.errors).toEqual(NO_ERRORS);
      expect(res.requests).toBeGreaterThan(0);
      const logged = new RegExp(
        `proxy header peer=${source.replace(/[.[\]]/g, "\\$&")} via=127\\.0\\.0\\.1:\\d+ version=2`,
      );
      await waitFor(() => logged.test(proxied.log()), `the server's log line for ${source}`);
    }
    expect(proxied.log()).not.toMatch(/reason=proxy-header/); // not one connection went without it
  });

  test("--proxy v1 in every persistent mode", async () => {
    for (const mode of ["echo", "stream", "hold"]) {
      const r = await runCli(runtime, [
        "bench",
        addr,
        "--proxy",
        "v1",
        "--mode",
        mode,
        "-c",
        "2",
        "-d",
        "300ms",
        "--json",
      ]);
      expect({ mode, code: r.code, err: r.stderr }).toEqual({ mode, code: 0, err: "" });
      const res = parseBenchJson(r.stdout);
      expect(res.errors).toEqual(NO_ERRORS);
      expect(res.proxy).toBe("v1");
    }
  });

  test("without --proxy, the same server refuses every connection: errors counted, exit 1", async () => {
    const r = await runCli(runtime, ["bench", addr, "-c", "2", "-d", "300ms", "--json"]);
    expect(r.code).toBe(1);
    const res = parseBenchJson(r.stdout);
    expect(res.requests).toBe(0);
    expect(res.errors.reset + res.errors.other).toBeGreaterThan(0);
    await waitFor(() => /reason=proxy-header .*bad-signature/.test(proxied.log()), "the server's refusal line");
  });
});
