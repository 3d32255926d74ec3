// `switchboard send` with --framing and -c N, run in-process against real servers.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { daytimeService } from "../../../src/services/daytime.ts";
import { echoService } from "../../../src/services/echo.ts";
import { framedEchoService } from "../../../src/services/framed-echo.ts";
import { cli, type Running, serve } from "./support.ts";

describe("send", () => {
  let raw: Running;
  let lp: Running;
  let fixed: Running;
  beforeAll(async () => {
    raw = await serve(echoService);
    lp = await serve(framedEchoService("lp:u32", 1024 * 1024));
    fixed = await serve(framedEchoService("fixed:3", 1024));
  });
  afterAll(async () => {
    await Promise.all([raw.stop(), lp.stop(), fixed.stop()]);
  });

  test("plain mode is unchanged: TEXT and a newline, everything back", async () => {
    const r = await cli(["send", `127.0.0.1:${raw.port}`, "hello", "world"]);
    expect(r).toMatchObject({ code: 0, stdout: "hello world\n" });
    const n = await cli(["send", `127.0.0.1:${raw.port}`, "-n", "x"]);
    expect(n.stdout).toBe("x");
    const stdin = await cli(["send", `127.0.0.1:${raw.port}`], { stdin: "from stdin\n" });
    expect(stdin.stdout).toBe("from stdin\n");
  });

  test("--framing: each argument is a frame, each reply frame a line", async () => {
    const r = await cli(["send", `127.0.0.1:${lp.port}`, "--framing", "lp:u32", "one", "two", "three 3"]);
    expect(r).toMatchObject({ code: 0, stdout: "one\ntwo\nthree 3\n", stderr: "" });
  });

  test("--framing without TEXT: each stdin line is a frame (CR LF too, last line unterminated)", async () => {
    const r = await cli(["send", `127.0.0.1:${lp.port}`, "-f", "lp:u32"], { stdin: "a\r\nbb\n\nccc" });
    expect(r).toMatchObject({ code: 0, stdout: "a\nbb\n\nccc\n" });
    const many = Array.from({ length: 500 }, (_, i) => `line ${i}`).join("\n") + "\n";
    const m = await cli(["send", `127.0.0.1:${lp.port}`, "-f", "lp:u32"], { stdin: many });
    expect(m.stdout).toBe(many);
  });

  test("--framing with a message the framing cannot carry: exit 1 naming the message", async () => {
    const r = await cli(["send", `127.0.0.1:${fixed.port}`, "--framing", "fixed:3", "abc", "abcd"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("abc\n");
    expect(r.stderr).toMatch(/message 2 cannot be sent: fixed-length frame must be 3 bytes, got 4/);
  });

  test("--max-frame limits the frames sent", async () => {
    const r = await cli(["send", `127.0.0.1:${raw.port}`, "--framing", "lp:u16", "--max-frame", "2", "xy"]);
    expect(r).toMatchObject({ code: 0, stdout: "xy\n" });
    const big = await cli(["send", `127.0.0.1:${raw.port}`, "--framing", "lp:u16", "--max-frame", "2", "xyz"]);
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/message 1 cannot be sent: frame of 3 bytes exceeds the 2-byte limit/);
  });

  test("--framing: a reply that breaks the framing is an error", async () => {
    const daytime = await serve(daytimeService());
    try {
      const r = await cli(["send", `127.0.0.1:${daytime.port}`, "--framing", "lp:ascii3", "abc"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /undecodable reply after 0 frames: .*not an ASCII digit; sent 1 frame, received 0 \(expected 1\)$/m,
      );
    } finally {
      await daytime.stop();
    }
  });

  test("bad framing specs and misplaced flags are usage errors", async () => {
    expect((await cli(["send", `127.0.0.1:${lp.port}`, "--framing", "lp:u3", "x"])).code).toBe(2);
    expect((await cli(["send", `127.0.0.1:${lp.port}`, "--framing", "line", "-n", "x"])).code).toBe(2);
    expect((await cli(["send", `127.0.0.1:${lp.port}`, "-c", "0", "x"])).code).toBe(2);
  });

  test("-c N opens N connections at once and reports each", async () => {
    const acceptedBefore = raw.server.stats().accepted;
    const r = await cli(["send", `127.0.0.1:${raw.port}`, "-c", "20", "hello"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(24);
    for (let i = 0; i < 20; i++) {
      expect(lines[i]).toMatch(new RegExp(`^conn ${i + 1}: ok, sent 6 bytes, received 6 bytes, \\d+ ms$`));
    }
    expect(lines[20]).toMatch(
      /^20 connections to 127\.0\.0\.1:\d+: 20 ok, 0 failed; sent 120 bytes, received 120 bytes$/,
    );
    expect(lines[21]).toMatch(
      /^duration \d+\.\d{3} s; throughput: sent [\d.]+ (B|KiB|MiB)\/s, received [\d.]+ (B|KiB|MiB)\/s$/,
    );
    expect(lines[22]).toMatch(/^connect latency: min [\d.]+ p50 [\d.]+ p90 [\d.]+ p99 [\d.]+ max [\d.]+ ms \(n=20\)$/);
    expect(lines[23]).toMatch(
      /^first-byte latency: min [\d.]+ p50 [\d.]+ p90 [\d.]+ p99 [\d.]+ max [\d.]+ ms \(n=20\)$/,
    );
    expect(raw.server.stats().accepted - acceptedBefore).toBe(20);
  });

  test("-c N with --framing counts reply frames; stdin is read once for all", async () => {
    const r = await cli(["send", `127.0.0.1:${lp.port}`, "-c", "5", "--framing", "lp:u32"], { stdin: "a\nb\nc\n" });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    for (let i = 0; i < 5; i++) expect(lines[i]).toMatch(/ok, sent 15 bytes, received 15 bytes, 3 frames/);
  });

  test("-c N reports failures per connection and exits 1", async () => {
    const gone = await serve(echoService);
    const port = gone.port;
    await gone.stop();
    const r = await cli(["send", `127.0.0.1:${port}`, "-c", "3", "x"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/conn 1: error: cannot connect: ECONNREFUSED/);
    expect(r.stdout).toMatch(/3 connections to .*: 0 ok, 3 failed/);
  });
});
