// Command-line conventions a script can rely on (issue 8), on every runtime with the real
// CLI: usage without arguments, `help CMD`, unknown options, hints, bundled short options,
// --opt=value, and one size parser with the same errors in every command.
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, type CliRuntime, runCli } from "../support/cli.ts";
import { waitFor } from "../support/sockets.ts";

/** A plain TCP echo server in this process, counting the connections it accepted. */
function echoServer(): Promise<{ port: number; accepted(): number; close(): Promise<void> }> {
  let accepted = 0;
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    accepted++;
    s.on("error", () => {});
    s.pipe(s);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        accepted: () => accepted,
        close: () => new Promise((r) => server.close(() => r())),
      }))
  );
}

let echo: Awaited<ReturnType<typeof echoServer>>;
beforeAll(async () => {
  echo = await echoServer();
});
afterAll(() => echo.close());

/** A usage error: exit 2, nothing on stdout, exactly this one line on stderr. */
async function expectUsageError(runtime: CliRuntime, args: string[], line: string): Promise<void> {
  const r = await runCli(runtime, args);
  expect({ code: r.code, stdout: r.stdout.toString(), stderr: r.stderr }, args.join(" ")).toEqual({
    code: 2,
    stdout: "",
    stderr: `switchboard: ${line}\n`,
  });
}

describe.each(CLI_RUNTIMES)("CLI conventions on %s", (runtime: CliRuntime) => {
  test("no arguments: the usage goes to stderr (stdout stays empty), exit 2", async () => {
    const r = await runCli(runtime, []);
    expect(r.code).toBe(2);
    expect(r.stdout.toString()).toBe("");
    expect(r.stderr).toMatch(/^switchboard \d+\.\d+\.\d+ — .*\n\nUsage: switchboard <command> \[options\]/);
  });

  test("`help serve` prints serve's help, as `serve --help` does; `help` alone the top-level help", async () => {
    const viaHelp = await runCli(runtime, ["help", "serve"]);
    const viaFlag = await runCli(runtime, ["serve", "--help"]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout.toString()).toMatch(/^Usage: switchboard serve /);
    expect(viaHelp.stdout.toString()).toBe(viaFlag.stdout.toString());
    const top = await runCli(runtime, ["help"]);
    expect(top.code).toBe(0);
    expect(top.stdout.toString()).toBe((await runCli(runtime, ["--help"])).stdout.toString());
    await expectUsageError(runtime, ["help", "frob"], `unknown command "frob" (see 'switchboard --help')`);
  });

  test("unknown options: one line naming the option and where to look, exit 2", async () => {
    await expectUsageError(runtime, ["--frob"], `unknown option "--frob" (see 'switchboard --help')`);
    await expectUsageError(runtime, ["--frob=1"], `unknown option "--frob" (see 'switchboard --help')`);
    await expectUsageError(runtime, ["frobnicate"], `unknown command "frobnicate" (see 'switchboard --help')`);
    await expectUsageError(runtime, ["serve", "--frob"], `unknown option "--frob" (see 'switchboard serve --help')`);
    await expectUsageError(
      runtime,
      ["send", `127.0.0.1:${echo.port}`, "-nx", "hi"],
      `unknown option "-x" in "-nx" (see 'switchboard send --help')`,
    );
    await expectUsageError(
      runtime,
      ["serve", "--idle-timeout", "5 parsecs"],
      `--idle-timeout: bad duration "5 parsecs": expected e.g. 500ms, 5s, 2m, 1h or 0 (see 'switchboard serve --help')`,
    );
    await expectUsageError(
      runtime,
      ["serve", "--log-level", "loud"],
      `--log-level: expected one of debug, info, warn, error, not "loud" (see 'switchboard serve --help')`,
    );
  });

  test("short options bundle (-nt 5s is -n -t 5s) and --opt=value works", async () => {
    const bundled = await runCli(runtime, ["send", `127.0.0.1:${echo.port}`, "-nt", "5s", "hello"]);
    expect({ code: bundled.code, out: bundled.stdout.toString(), err: bundled.stderr }).toEqual({
      code: 0,
      out: "hello", // -n: no newline added
      err: "",
    });
    const glued = await runCli(runtime, ["send", `127.0.0.1:${echo.port}`, "-nt5s", "glued"]);
    expect(glued.stdout.toString()).toBe("glued");
    const inline = await runCli(runtime, ["send", `127.0.0.1:${echo.port}`, "--timeout=5s", "--no-newline", "x=y"]);
    expect(inline.stdout.toString()).toBe("x=y");
  });

  test("sizes: one parser, the option and its limit named, the same in serve, send and request", async () => {
    const hint = (cmd: string) => `(see 'switchboard ${cmd} --help')`;
    const bad = `bad size "1TB" (expected e.g. 65536, 64KiB, 1MiB, 1MB)`;
    await expectUsageError(runtime, ["serve", "--max-frame", "1TB"], `--max-frame: ${bad} ${hint("serve")}`);
    await expectUsageError(
      runtime,
      ["serve", "--listen", "127.0.0.1:0", "--max-frame", "99999999999999999999"],
      `--max-frame: must be at most 4GiB (4294967296 bytes), not "99999999999999999999" ${hint("serve")}`,
    );
    await expectUsageError(
      runtime,
      ["serve", "--listen", "127.0.0.1:0", "--service", "echo", "--framing", "line", "--max-frame", "5GiB"],
      `--max-frame: must be at most 4GiB (4294967296 bytes), not "5GiB" ${hint("serve")}`,
    );
    // With a framing, the old parser's huge number reached the codec and leaked its internal name.
    await expectUsageError(
      runtime,
      ["send", "127.0.0.1:1", "--framing", "line", "--max-frame", "99999999999999999999", "x"],
      `--max-frame: must be at most 4GiB (4294967296 bytes), not "99999999999999999999" ${hint("send")}`,
    );
    await expectUsageError(
      runtime,
      ["serve", "--write-buffer", "0"],
      `--write-buffer: must be at least 1 byte, not "0" ${hint("serve")}`,
    );
    await expectUsageError(
      runtime,
      ["serve", "--service", "app", "--max-data", "1GiB"],
      `--max-data: must be at most 256MiB (268435456 bytes), not "1GiB" ${hint("serve")}`,
    );
    await expectUsageError(
      runtime,
      ["send", "127.0.0.1:1", "--max-frame", "1TB", "x"],
      `--max-frame: ${bad} ${hint("send")}`,
    );
    await expectUsageError(
      runtime,
      ["request", "127.0.0.1:1", "search", "x", "--max-reply", "99999999999999999999"],
      `--max-reply: must be at most 4GiB (4294967296 bytes), not "99999999999999999999" ${hint("request")}`,
    );
  });

  test("send --max-frame 0 is refused before connecting", async () => {
    const before = echo.accepted();
    await expectUsageError(
      runtime,
      ["send", `127.0.0.1:${echo.port}`, "--framing", "lp:u16", "--max-frame", "0", "x"],
      `--max-frame: must be at least 1 byte, not "0" (see 'switchboard send --help')`,
    );
    // A connection that reached the server would have been counted by the time the client exited.
    const probe = await runCli(runtime, ["send", `127.0.0.1:${echo.port}`, "probe"]);
    expect(probe.stdout.toString()).toBe("probe\n");
    await waitFor(() => echo.accepted() === before + 1, "the probe's connection");
    expect(echo.accepted()).toBe(before + 1);
  });

  test("1MB is 10^6 bytes and 1MiB is 2^20: a frame of 1,000,001 bytes is over --max-frame 1MB", async () => {
    const big = "x".repeat(1_000_001);
    const over = await runCli(runtime, [
      "send",
      `127.0.0.1:${echo.port}`,
      "--framing",
      "eof",
      "--max-frame",
      "1MB",
    ], { stdin: big });
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(/1000000/);
    const under = await runCli(runtime, ["send", `127.0.0.1:${echo.port}`, "--framing", "eof", "--max-frame", "1MiB"], {
      stdin: big,
    });
    expect(under.code, under.stderr).toBe(0);
    expect(under.stdout.length).toBe(big.length + 1); // the frame, then a newline
  });
});
