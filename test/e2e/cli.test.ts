// The CLI as users run it: real processes on every runtime, real sockets, stock clients.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, type CliRuntime, ROOT, runCli, type RunningServer, startServer } from "../support/cli.ts";
import { sleep, waitFor, withTimeout } from "../support/sockets.ts";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };

interface Client {
  socket: net.Socket;
  /** Everything received so far, as text. */
  received(): string;
  /** The server's FIN arrived. */
  ended(): boolean;
  /** Resolves on close: true when it closed with an error (a reset). */
  closed: Promise<boolean>;
}

/** A TCP client connected to 127.0.0.1:`port`, Nagle off, recording what comes back. */
async function connectClient(port: number): Promise<Client> {
  const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
  let received = "";
  let ended = false;
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => (received += d));
  socket.on("end", () => (ended = true));
  socket.on("error", () => {}); // reported by `closed`
  const closed = new Promise<boolean>((resolve) => socket.on("close", resolve));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, received: () => received, ended: () => ended, closed };
}

/** Whether a server process is still running (it has not exited). */
const running = (s: RunningServer) => s.child.exitCode === null && s.child.signalCode === null;

type LogRecord = Record<string, unknown> & { time: string; level: string; msg: string };

describe.each(CLI_RUNTIMES)("switchboard CLI on %s", (runtime: CliRuntime) => {
  test("--version, --help, and usage errors exit 2 with one clear line", async () => {
    const v = await runCli(runtime, ["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout.toString()).toContain(`switchboard ${pkg.version}`);
    expect(v.stdout.toString()).toContain(runtime);

    for (const cmd of [["--help"], ["serve", "--help"], ["send", "--help"]]) {
      const h = await runCli(runtime, cmd);
      expect(h.code, cmd.join(" ")).toBe(0);
      expect(h.stdout.toString()).toMatch(/Usage: switchboard/);
    }

    const cases: [string[], RegExp][] = [
      [["serve", "--bogus"], /unknown option "--bogus"/],
      [["serve", "--listen", "nohost"], /bad address "nohost"/],
      [["serve", "--listen", "127.0.0.1:70000"], /port must be/],
      [["serve", "--idle-timeout", "5 parsecs"], /bad duration/],
      [["send"], /needs an address/],
      [["frobnicate"], /unknown command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(runtime, args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });

  test("--reuse-port: a second process shares the port where the runtime supports it, else a clear refusal", async () => {
    const first = await startServer(runtime, ["--listen", "127.0.0.1:0", "--reuse-port"]);
    try {
      // Bun supports SO_REUSEPORT; Node 20 has none, and Deno needs --unstable-net.
      if (runtime === "bun") {
        const second = await startServer(runtime, ["--listen", `127.0.0.1:${first.port}`, "--reuse-port"]);
        try {
          expect(second.port).toBe(first.port);
          for (let i = 0; i < 10; i++) {
            const r = await runCli("node", ["send", `127.0.0.1:${first.port}`, `hello ${i}`]);
            expect(r.stdout.toString()).toBe(`hello ${i}\n`);
          }
        } finally {
          await second.stop();
        }
      } else {
        expect(first.log()).toMatch(/--reuse-port is not supported here/);
        const second = await runCli(runtime, ["serve", "--listen", `127.0.0.1:${first.port}`, "--reuse-port"]);
        expect(second.code).toBe(1);
        expect(second.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: .*(EADDRINUSE|in use)/i);
      }
    } finally {
      await first.stop();
    }
  });

  test("--log-format json: every stderr line is a JSON record, listening and shutdown included", async () => {
    const server = await startServer(runtime, [
      "--log-format",
      "json",
      "--listen",
      "127.0.0.1:0",
      "--listen",
      "127.0.0.1:0",
    ]);
    try {
      // startServer found both listeners in the JSON lines.
      expect(server.addrs).toHaveLength(2);
      for (const [i, addr] of server.addrs.entries()) {
        expect(addr).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
        const c = await connectClient(Number(addr.split(":")[1]));
        c.socket.end(`hello json ${i}\n`);
        expect(await withTimeout(c.closed, 10_000, `the echo on ${addr}`)).toBe(false);
        expect(c.received()).toBe(`hello json ${i}\n`);
      }
    } finally {
      const exit = await server.stop();
      expect(exit).toEqual({ code: 0, signal: null });
    }

    const log = server.log();
    expect(log.endsWith("\n"), "the log ends with a whole line").toBe(true);
    const records = log.slice(0, -1).split("\n").map((line, i): LogRecord => {
      let rec: unknown;
      expect(() => (rec = JSON.parse(line)), `stderr line ${i + 1} is JSON: ${line}`).not.toThrow();
      expect(rec, `stderr line ${i + 1}`).toMatchObject({
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        level: expect.stringMatching(/^(debug|info|warn|error)$/),
        msg: expect.any(String),
      });
      return rec as LogRecord;
    });

    const listening = records.filter((r) => r.msg === "listening");
    expect(listening).toHaveLength(2);
    listening.forEach((r, i) => {
      expect(r).toMatchObject({ level: "info", addr: server.addrs[i], service: "echo", runtime });
    });
    const shutdown = records.findIndex((r) => r.msg === "shutting down");
    expect(shutdown, "a shutting down record").toBeGreaterThan(-1);
    expect(records[shutdown]).toMatchObject({
      level: "info",
      signal: "SIGTERM",
      // Usually 0, but the server may not have seen our echo connections' close yet.
      connections: expect.any(Number),
      drain_timeout: expect.any(String),
    });
    expect(records.at(-1), "the last record").toMatchObject({ level: "info", msg: "stopped", accepted: 2, refused: 0 });
    expect(records.length - 1, "stopped comes after shutting down").toBeGreaterThan(shutdown);
  });

  test("SIGINT drains gracefully: the idle connection closes, an in-flight frame is finished and answered, exit 0", async () => {
    const server = await startServer(runtime, ["--service", "echo", "--framing", "line", "--listen", "127.0.0.1:0"]);
    const clients: Client[] = [];
    try {
      const idle = await connectClient(server.port);
      const busy = await connectClient(server.port);
      clients.push(idle, busy);
      idle.socket.write("idle\n");
      await waitFor(() => idle.received() === "idle\n", "the idle connection's echo");
      // A whole line and the start of the next in one small write (one segment, one read):
      // once the first line is echoed, the server holds the partial frame.
      busy.socket.write("first\npartial fr");
      await waitFor(() => busy.received() === "first\n", "the first line's echo");

      server.child.kill("SIGINT");
      await waitFor(() => /shutting down signal=SIGINT connections=2 /.test(server.log()), "the shutting down line");
      // The idle connection is closed at once, with a FIN (no reset) ...
      expect(await withTimeout(idle.closed, 5000, "the idle connection to close")).toBe(false);
      expect(idle.ended()).toBe(true);
      // ... the one inside a frame is left to finish it.
      await sleep(200);
      expect(busy.ended(), "the in-flight connection is still open").toBe(false);
      expect(running(server), "the server is still running").toBe(true);

      busy.socket.write("ame\n");
      await waitFor(() => busy.received() === "first\npartial frame\n", "the in-flight frame's echo");
      expect(await withTimeout(busy.closed, 5000, "the in-flight connection to close")).toBe(false);
      expect(busy.ended()).toBe(true);

      const exit = await withTimeout(server.exited, 10_000, "the server to exit");
      expect(exit, server.log()).toEqual({ code: 0, signal: null });
      expect(server.log()).toMatch(/shutting down signal=SIGINT /);
      expect(server.log()).toMatch(/stopped accepted=2 refused=0/);
      expect(server.log(), "a graceful drain, not a hard stop").not.toMatch(/second signal|drain-timeout/);
    } finally {
      for (const c of clients) c.socket.destroy();
      if (running(server)) await server.stop();
    }
  });

  test("send to an address nobody listens on fails with exit 1 and the reason", async () => {
    const r = await runCli(runtime, ["send", "127.0.0.1:1", "hello"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot connect to 127\.0\.0\.1:1: .*refused/i);
  });

  describe("a running echo server", () => {
    let server: RunningServer;
    let unixDir: string;
    beforeAll(async () => {
      unixDir = mkdtempSync(join(tmpdir(), "sb-e2e-"));
      server = await startServer(runtime, [
        "--listen",
        "127.0.0.1:0",
        "--listen",
        "[::1]:0",
        "--listen",
        `unix:${join(unixDir, "echo.sock")}`,
      ]);
    });
    afterAll(async () => {
      const r = await server.stop();
      rmSync(unixDir, { recursive: true, force: true });
      // Graceful stop: SIGTERM → exit 0, with a final log line.
      expect(r.code).toBe(0);
      expect(server.log()).toMatch(/shutting down signal=SIGTERM/);
      expect(server.log()).toMatch(/stopped/);
    });

    test("logs one line per listener, each with its real address", () => {
      expect(server.addrs).toHaveLength(3);
      expect(server.addrs[0]).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
      expect(server.addrs[1]).toMatch(/^\[::1\]:[1-9]\d*$/);
      expect(server.addrs[2]).toMatch(/^unix:.*echo\.sock$/);
      expect(server.log()).toMatch(new RegExp(`service=echo max_conns=\\d+ runtime=${runtime}`));
    });

    test("a stock Python socket client gets its bytes back (IPv4, IPv6, unix)", () => {
      const py = `
import socket, sys
def roundtrip(fam, addr, payload):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.connect(addr)
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = s.recv(65536)
        if not b: break
        got += b
    s.close()
    assert got == payload, (len(got), len(payload))
payload = bytes(range(256)) * 4000
roundtrip(socket.AF_INET, ("127.0.0.1", int(sys.argv[1])), payload)
roundtrip(socket.AF_INET6, ("::1", int(sys.argv[2])), payload)
roundtrip(socket.AF_UNIX, sys.argv[3], payload)
print("ok")
`;
      const port6 = server.addrs[1]!.replace(/^\[::1\]:/, "");
      const path = server.addrs[2]!.slice("unix:".length);
      const r = spawnSync("python3", ["-c", py, String(server.port), port6, path], {
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(r.stderr).toBe("");
      expect(r.stdout.trim()).toBe("ok");
    });

    test("nc (netcat) gets its line back", () => {
      const r = spawnSync("nc", ["-N", "127.0.0.1", String(server.port)], {
        input: "hello from nc\n",
        encoding: "utf8",
        timeout: 10_000,
      });
      expect(r.error).toBeUndefined();
      expect(r.stdout).toBe("hello from nc\n");
    });

    test("accepted TCP connections have keepalive on (a vanished peer is found)", async () => {
      const { connect } = await import("node:net");
      const client = connect({ host: "127.0.0.1", port: server.port });
      await new Promise<void>((r) => client.once("connect", () => r()));
      try {
        let out = "";
        const until = Date.now() + 10_000;
        while (!/keepalive/.test(out) && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 20));
          out = spawnSync("ss", [
            "-tnoH",
            "state",
            "established",
            `( sport = :${server.port} and dport = :${client.localPort} )`,
          ], { encoding: "utf8" }).stdout;
        }
        expect(out).toMatch(/timer:\(keepalive/);
      } finally {
        client.destroy();
      }
    });

    test("switchboard send echoes TEXT and stdin (1 MiB of random bytes) intact", async () => {
      const text = await runCli(runtime, ["send", server.addrs[0]!, "hello", "world"]);
      expect(text.code).toBe(0);
      expect(text.stdout.toString()).toBe("hello world\n");

      const payload = randomBytes(1024 * 1024);
      const bin = await runCli(runtime, ["send", server.addrs[2]!], { stdin: payload });
      expect(bin.code).toBe(0);
      expect(Buffer.compare(bin.stdout, payload)).toBe(0);
    });
  });
});

describe("interop: every client runtime against every server runtime", () => {
  const servers = new Map<CliRuntime, RunningServer>();
  beforeAll(async () => {
    for (const rt of CLI_RUNTIMES) servers.set(rt, await startServer(rt, ["--listen", "127.0.0.1:0"]));
  });
  afterAll(async () => {
    for (const s of servers.values()) expect((await s.stop()).code).toBe(0);
  });

  const pairs = CLI_RUNTIMES.flatMap((server) => CLI_RUNTIMES.map((client) => [client, server] as const));
  test.each(pairs)("%s client → %s server: 256 KiB round trip", async (client, serverRt) => {
    const payload = randomBytes(256 * 1024);
    const r = await runCli(client, ["send", servers.get(serverRt)!.addrs[0]!], { stdin: payload });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(Buffer.compare(r.stdout, payload)).toBe(0);
  });
});
