// `switchboard request` in-process against a real app server (and friends).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sha256Hex } from "../../../src/app/sha256.ts";
import { appService } from "../../../src/services/app.ts";
import { dictionaryFrom } from "../../../src/app/dictionary.ts";
import { discardService } from "../../../src/services/discard.ts";
import { echoService } from "../../../src/services/echo.ts";
import { pattern } from "../../support/sockets.ts";
import { cli, type Running, serve } from "../services/support.ts";

describe("request", () => {
  let s: Running;
  let at: string;
  beforeAll(async () => {
    s = await serve(
      appService({
        dictionary: dictionaryFrom({ ring: "In the caves beneath the Misty Mountains. \u{1f48d}", n: 42 }),
      }),
    );
    at = `127.0.0.1:${s.port}`;
  });
  afterAll(() => s.stop());

  test("search VALUE prints the dictionary value, exit 0", async () => {
    expect(await cli(["request", at, "search", "ring"])).toMatchObject({
      code: 0,
      stdout: "In the caves beneath the Misty Mountains. \u{1f48d}\n",
      stderr: "",
    });
    expect(await cli(["request", at, "search", "n"])).toMatchObject({ code: 0, stdout: "42\n" });
  });

  test("a missing key prints the server's 'No match' result, exit 0", async () => {
    expect(await cli(["request", at, "search", "neo"])).toMatchObject({ code: 0, stdout: 'No match for "neo".\n' });
  });

  test("echo VALUE (words joined by spaces)", async () => {
    expect(await cli(["request", at, "echo", "hello", "world"])).toMatchObject({ code: 0, stdout: "hello world\n" });
  });

  test("--json sends any object; non-string results print as JSON", async () => {
    const r = await cli(["request", at, "--json", '{"action":"echo","value":{"a":[1,2]}}']);
    expect(r).toMatchObject({ code: 0, stdout: '{"a":[1,2]}\n' });
  });

  test("an error result exits 1 with the reason on stderr", async () => {
    const r = await cli(["request", at, "dance", "x"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/server replied with an error: Error: invalid action "dance"\./);
    const bad = await cli(["request", at, "--json", "[1]"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/request is not a JSON object/);
  });

  test("--binary sends stdin (or TEXT, or --file) and checks the server's digest", async () => {
    const data = pattern(300_000, 8);
    const r = await cli(["request", at, "--binary"], { stdin: data });
    expect(r.code).toBe(0);
    const summary = `length=300000 sha256=${sha256Hex(data)}`;
    expect(r.stdout).toBe(
      `binary reply (binary/custom-server-binary-type, ${summary.length} bytes): ${summary} (matches the 300000 bytes sent)\n`,
    );
    const t = await cli(["request", at, "-b", "hi", "there"]);
    expect(t.stdout).toContain(`length=8 sha256=${sha256Hex(new TextEncoder().encode("hi there"))}`);
    const f = await cli(["request", at, "--binary", "--file", "data.bin", "--content-type", "image/x-test"], {
      files: { "data.bin": "file bytes" },
    });
    expect(f.stdout).toContain("length=10 ");
  });

  test("-v prints both headers to stderr", async () => {
    const r = await cli(["request", at, "-v", "search", "ring"]);
    expect(r.stderr).toMatch(
      /request header: \{"byteorder":"(little|big)","content-type":"text\/json","content-encoding":"utf-8","content-length":\d+\}/,
    );
    expect(r.stderr).toMatch(/reply header: /);
  });

  test.each([
    [["request"], /needs an address/],
    [["request", "127.0.0.1:1"], /needs ACTION VALUE/],
    [["request", "127.0.0.1:1", "search"], /action "search" needs a VALUE/],
    [["request", "127.0.0.1:1", "--json", "{x"], /not valid JSON/],
    [["request", "127.0.0.1:1", "--json", "{}", "--binary"], /cannot be combined/],
    [["request", "127.0.0.1:1", "--json", "{}", "extra"], /unexpected argument "extra"/],
    [["request", "nope", "search", "x"], /bad address/],
  ])("usage error %j exits 2", async (args, why) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(why);
  });

  test("connection refused, silent server and non-app server all exit 1 with the reason", async () => {
    const gone = await serve(echoService);
    const port = gone.port;
    await gone.stop();
    const refused = await cli(["request", `127.0.0.1:${port}`, "search", "x"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot connect to 127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)/);

    const d = await serve(discardService, { lingerMs: 0 });
    const silent = await cli(["request", `127.0.0.1:${d.port}`, "search", "x"]);
    expect(silent.code).toBe(1);
    expect(silent.stderr).toMatch(/server closed the connection with 1 reply missing/);
    await d.stop();

    // A raw echo server sends our own request back: a valid message, but a request, not a result.
    const e = await serve(echoService);
    const echoed = await cli(["request", `127.0.0.1:${e.port}`, "search", "x"]);
    expect(echoed).toMatchObject({ code: 1, stdout: "" });
    expect(echoed.stderr).toBe("switchboard: the reply echoes the request: is this an echo server?\n");
    await e.stop();
  });

  test("--wait bounds the silence before the reply", async () => {
    const quiet = await serve(appService({ handler: () => new Promise(() => {}) }), { drainMs: 200 });
    try {
      const r = await cli(["request", `127.0.0.1:${quiet.port}`, "--wait", "300ms", "search", "x"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/: no bytes either way for 300ms \(--wait\); giving up$/m);
    } finally {
      await quiet.stop();
    }
  });

  test("help describes the command", async () => {
    const r = await cli(["request", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: switchboard request ADDR ACTION VALUE/);
    const top = await cli(["--help"]);
    expect(top.stdout).toMatch(/request\s+app-protocol client/);
  });
});
