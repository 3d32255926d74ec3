// `serve` start-up as a script sees it (issue 8), on every runtime with the real CLI:
// --data problems are one line naming the file (exit 1), --log-format json keeps stderr
// pure JSON even for fatal errors, start-up binds every address or none, and the
// connection-level lines (debug) and policy closes (info) carry bytes and duration.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, type CliRuntime, runCli, startServer } from "../support/cli.ts";
import { waitFor, withTimeout } from "../support/sockets.ts";
import { freePort } from "../support/ports.ts";

let dir: string;
let busy: net.Server;
let busyPort: number;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sb-startup-"));
  busy = net.createServer(() => {});
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  busyPort = (busy.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => busy.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Every stderr line parsed as JSON (fails naming the line that is not). */
function jsonLines(stderr: string): Record<string, unknown>[] {
  expect(stderr.endsWith("\n"), `stderr ends with a whole line: ${stderr}`).toBe(true);
  return stderr.slice(0, -1).split("\n").map((line, i) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`stderr line ${i + 1} is not JSON: ${line}`);
    }
  });
}

describe.each(CLI_RUNTIMES)("serve start-up on %s", (runtime: CliRuntime) => {
  const app = ["serve", "--service", "app", "--listen", "127.0.0.1:0"];

  test("a bad --data file: one line naming the file and the problem, exit 1 whatever the problem", async () => {
    const cases: [string, string][] = [
      [file("snippet.json", '{\n"a": x\n}'), "not valid JSON \\(.+\\)"],
      [file("list.json", "[1, 2]"), "expected a JSON object of search term -> result, got an array"],
      [file("string.json", '"words"'), "expected a JSON object of search term -> result, got a string"],
      [file("latin1.json", new Uint8Array([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d])), "not UTF-8 text"],
      [join(dir, "missing.json"), "cannot read: .+"],
    ];
    for (const [path, problem] of cases) {
      const r = await runCli(runtime, [...app, "--data", path]);
      expect(r.code, r.stderr).toBe(1);
      const quoted = JSON.stringify(path).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      expect(r.stderr).toMatch(new RegExp(`^switchboard: --data ${quoted}: ${problem}\\n$`));
    }
  });

  test("--max-data bounds the file before it is read; a large file announces itself while it parses", async () => {
    const words = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`term${i}`, `a result for term ${i}`]));
    const big = file("big.json", JSON.stringify(words)); // about 1.3 MB
    const size = Buffer.byteLength(JSON.stringify(words));
    const over = await runCli(runtime, [...app, "--data", big, "--max-data", "1MB"]);
    expect(over.code).toBe(1);
    expect(over.stderr).toBe(
      `switchboard: --data ${
        JSON.stringify(big)
      }: ${size} bytes is more than the --max-data limit of 1000000 (1000000 bytes)\n`,
    );

    const server = await startServer(runtime, ["--service", "app", "--listen", "127.0.0.1:0", "--data", big]);
    try {
      const log = server.log();
      const loading = log.indexOf(`loading data file file=${big} bytes=${size}`);
      const loaded = log.search(new RegExp(`data file loaded file=\\S+ bytes=${size} terms=40000 ms=\\d+`));
      const listening = log.indexOf("listening");
      expect(loading, log).toBeGreaterThanOrEqual(0);
      expect(loaded, log).toBeGreaterThan(loading);
      expect(listening, log).toBeGreaterThan(loaded);
      const r = await runCli(runtime, ["request", `127.0.0.1:${server.port}`, "search", "term39999"]);
      expect(r.stdout.toString()).toBe("a result for term 39999\n");
    } finally {
      await server.stop();
    }
  });

  test("--log-format json: fatal start-up errors are JSON lines too, and nothing else is written", async () => {
    const cases: [string[], number, string, RegExp][] = [
      [["serve", "--log-format", "json", "--frob"], 2, "usage error", /^unknown option "--frob" \(see/],
      [["serve", "--log-format=json", "--max-frame", "1TB"], 2, "usage error", /^--max-frame: bad size "1TB"/],
      [["serve", "--log-format", "json", "--listen", `127.0.0.1:${busyPort}`], 1, "cannot start", /cannot listen/],
      [[...app, "--log-format", "json", "--data", file("bad.json", "{nope\n}")], 1, "bad data file", /not valid JSON/],
    ];
    for (const [args, code, msg, error] of cases) {
      const r = await runCli(runtime, args);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stdout.toString()).toBe("");
      const lines = jsonLines(r.stderr);
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: "error", msg, exit_code: code, error: expect.stringMatching(error) });
    }
  });

  test("start-up is all or nothing: one address that cannot be bound, and none is announced or kept", async () => {
    const sock = join(dir, `partial-${runtime}.sock`);
    const free = await freePort();
    const args = ["serve", "-l", `127.0.0.1:${free}`, "-l", `unix:${sock}`, "-l", `127.0.0.1:${busyPort}`];
    const r = await runCli(runtime, args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^switchboard: cannot listen on 127\\.0\\.0\\.1:${busyPort}: [^\\n]+\\n$`));
    // Released: the unix socket file is gone and the first port can be bound again.
    const s = net.createServer();
    await new Promise<void>((res, rej) => s.once("error", rej).listen(free, "127.0.0.1", res));
    await new Promise((res) => s.close(res));
    expect(existsSync(sock), "the unix socket file is removed").toBe(false);

    const json = await runCli(runtime, [...args, "--log-format", "json"]);
    expect(json.code).toBe(1);
    const lines = jsonLines(json.stderr);
    expect(lines.map((l) => l.msg)).toEqual(["cannot start"]);
  });

  test("the same address twice is a usage error found before anything is bound", async () => {
    const port = await freePort();
    const r = await runCli(runtime, ["serve", "-l", `127.0.0.1:${port}`, "--listen=127.0.0.1:" + port]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 2,
      stderr: `switchboard: --listen 127.0.0.1:${port} given twice (see 'switchboard serve --help')\n`,
    });
  });

  test("--log-level debug: a line per connection opened and closed, with peer, duration, bytes, frames, reason", async () => {
    const server = await startServer(runtime, [
      "--log-level",
      "debug",
      "--log-format",
      "json",
      "--service",
      "echo",
      "--framing",
      "line",
      "--listen",
      "127.0.0.1:0",
    ]);
    try {
      const socket = net.connect({ host: "127.0.0.1", port: server.port });
      socket.on("error", () => {});
      await new Promise((r) => socket.once("connect", r));
      const peer = `127.0.0.1:${socket.localPort}`;
      let received = "";
      socket.on("data", (d) => (received += d));
      const closed = new Promise((r) => socket.on("close", r));
      socket.end("one\ntwo\n");
      await withTimeout(closed, 10_000, "the echo connection to close");
      expect(received).toBe("one\ntwo\n");
      const records = () => server.log().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      await waitFor(() => records().some((r) => r.msg === "conn-close"), "a conn-close line");
      const open = records().find((r) => r.msg === "conn-open");
      const close = records().find((r) => r.msg === "conn-close");
      expect(open).toMatchObject({ level: "debug", peer, local: `127.0.0.1:${server.port}`, conn: expect.any(Number) });
      expect(close).toMatchObject({
        level: "debug",
        peer,
        conn: open.conn,
        bytes_in: 8,
        bytes_out: 8,
        frames: 2,
        reason: "peer-closed",
        duration_ms: expect.any(Number),
      });
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });

  test("at info, a policy close carries bytes and duration (an HTTP probe to the app port), and no debug lines", async () => {
    const server = await startServer(runtime, [
      "--service",
      "app",
      "--frame-timeout",
      "300ms",
      "--listen",
      "127.0.0.1:0",
    ]);
    try {
      const probe = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
      const socket = net.connect({ host: "127.0.0.1", port: server.port });
      socket.on("error", () => {});
      socket.write(probe);
      await waitFor(() => /reason=frame-timeout/.test(server.log()), "the frame-timeout line");
      const line = server.log().split("\n").find((l) => l.includes("reason=frame-timeout"))!;
      expect(line).toMatch(
        new RegExp(
          `WARN  connection closed by policy reason=frame-timeout peer=127\\.0\\.0\\.1:\\d+ conn=\\d+ duration_ms=\\d+ bytes_in=${probe.length} bytes_out=0`,
        ),
      );
      expect(Number(/duration_ms=(\d+)/.exec(line)![1])).toBeGreaterThanOrEqual(300);
      expect(server.log()).not.toMatch(/conn-open|conn-close|DEBUG/);
      socket.destroy();
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });
});
