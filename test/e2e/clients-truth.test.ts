// Clients never report false success: `request` checks that a reply is an answer of the
// app protocol, `send --framing` counts frames out and in, `send -c` ends with a load
// report whose figures add up, and a reply cannot drive the user's terminal.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, cliCommand, type CliRuntime, ROOT, runCli, startServer } from "../support/cli.ts";
import {
  appMessage,
  appReplyPeer,
  echoPeer,
  halfEchoPeer,
  type Peer,
  replyAtEofPeer,
} from "../support/misbehaving-peers.ts";

const EVIL = "\x1b]0;pwned\x07\x1b[31mred\x1b[0m \u009b2J";

describe.each(CLI_RUNTIMES)("clients tell the truth on %s", (runtime: CliRuntime) => {
  const peers: Peer[] = [];
  let echo: Peer;
  let halfEcho: Peer;
  beforeAll(async () => {
    echo = await echoPeer();
    halfEcho = await halfEchoPeer();
    peers.push(echo, halfEcho);
  });
  afterAll(async () => {
    for (const p of peers) await p.close();
  });
  const started = async (p: Promise<Peer>) => {
    const peer = await p;
    peers.push(peer);
    return `127.0.0.1:${peer.port}`;
  };

  test("request pointed at an echo server fails saying so", async () => {
    const r = await runCli(runtime, ["request", `127.0.0.1:${echo.port}`, "search", "ring"]);
    expect(r.code).toBe(1);
    expect(r.stdout.toString()).toBe("");
    expect(r.stderr).toBe("switchboard: the reply echoes the request: is this an echo server?\n");
  });

  test("request: a reply without result, or with a null one, is not a success; a real one is", async () => {
    const none = await started(appReplyPeer(appMessage('{"answer": 42}')));
    const r1 = await runCli(runtime, ["request", none, "search", "ring"]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toBe('switchboard: the reply has no "result"\n');

    const nul = await started(appReplyPeer(appMessage('{"result": null}')));
    const r2 = await runCli(runtime, ["request", nul, "search", "ring"]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toBe('switchboard: the reply\'s "result" is null\n');

    const bin = await started(appReplyPeer(appMessage("surprise", "binary/whatever")));
    const r3 = await runCli(runtime, ["request", bin, "search", "ring"]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toBe("switchboard: a binary reply (binary/whatever) to a text/json request is not an answer\n");

    const good = await started(appReplyPeer(appMessage('{"result": "found"}')));
    const ok = await runCli(runtime, ["request", good, "search", "ring"]);
    expect({ code: ok.code, out: ok.stdout.toString(), err: ok.stderr }).toEqual({ code: 0, out: "found\n", err: "" });
  });

  test("send --framing: 2 frames sent and 1 echoed is exit 1 with the counts; --expect says otherwise", async () => {
    const at = `127.0.0.1:${halfEcho.port}`;
    const r = await runCli(runtime, ["send", at, "--framing", "lp:u16", "first", "second"]);
    expect(r.code).toBe(1);
    expect(r.stdout.toString()).toBe("first\n");
    expect(r.stderr).toBe(`switchboard: ${at}: wrong number of reply frames; sent 2 frames, received 1 (expected 2)\n`);
    const told = await runCli(runtime, ["send", at, "--framing", "lp:u16", "--expect", "1", "first", "second"]);
    expect({ code: told.code, err: told.stderr }).toEqual({ code: 0, err: "" });

    const many = await runCli(runtime, ["send", at, "-c", "3", "--framing", "lp:u16", "first", "second"]);
    expect(many.code).toBe(1);
    const lines = many.stdout.toString().split("\n");
    for (const line of lines.slice(0, 3)) {
      expect(line).toMatch(/^conn \d: error: received 1 of 2 reply frames, sent 15 bytes, received 7 bytes, 1 frames/);
    }
    expect(lines[3]).toMatch(/: 0 ok, 3 failed; sent 45 bytes, received 21 bytes$/);
  });

  test("send --framing: a framing mismatch (nothing decodes) or undecodable bytes are exit 1 with the counts", async () => {
    // A real switchboard server speaking lp:u16, a client speaking line: the server finds
    // no frame, closes, and nothing comes back.
    const server = await startServer(runtime, ["--listen", "127.0.0.1:0", "--framing", "lp:u16"]);
    try {
      const at = `127.0.0.1:${server.port}`;
      const r = await runCli(runtime, ["send", at, "--framing", "line", "one", "two"]);
      expect(r.code).toBe(1);
      expect(r.stdout.toString()).toBe("");
      expect(r.stderr).toBe(
        `switchboard: ${at}: wrong number of reply frames; sent 2 frames, received 0 (expected 2)\n`,
      );
    } finally {
      await server.stop();
    }
    const garbage = await started(replyAtEofPeer("zz"));
    const g = await runCli(runtime, ["send", garbage, "--framing", "lp:u16", "one"]);
    expect(g.code).toBe(1);
    expect(g.stderr).toMatch(
      new RegExp(
        `^switchboard: ${garbage}: undecodable reply after 0 frames: .*; sent 1 frame, received 0 \\(expected 1\\)\\n$`,
      ),
    );
    // A sink that answers nothing is fine when told so.
    const sink = await started(replyAtEofPeer(""));
    const s = await runCli(runtime, ["send", sink, "--framing", "line", "--expect", "0", "one", "two"]);
    expect({ code: s.code, err: s.stderr }).toEqual({ code: 0, err: "" });
  });

  test("send -c N ends with ok/failed, bytes, duration, throughput and latency percentiles that add up", async () => {
    const r = await runCli(runtime, ["send", `127.0.0.1:${echo.port}`, "-c", "7", "hello"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.toString().trim().split("\n");
    expect(lines).toHaveLength(11);
    expect(lines[7]).toMatch(/^7 connections to 127\.0\.0\.1:\d+: 7 ok, 0 failed; sent 42 bytes, received 42 bytes$/);
    const d = /^duration (\d+\.\d{3}) s; throughput: sent ([\d.]+) (B|KiB)\/s, received ([\d.]+) (B|KiB)\/s$/.exec(
      lines[8]!,
    );
    expect(d, lines[8]).not.toBeNull();
    expect(Number(d![1])).toBeGreaterThan(0);
    // throughput = bytes / duration, to the rounding of both printed figures: the true
    // duration is within half a millisecond of the printed one, the rate within half its
    // last printed digit.
    const unit = d![3] === "KiB" ? 1024 : 1;
    const rate = Number(d![2]) * unit;
    const halfDigit = 0.5 * 10 ** -(d![2]!.split(".")[1]?.length ?? 0) * unit;
    const seconds = Number(d![1]);
    expect(rate, lines[8]).toBeGreaterThanOrEqual(42 / (seconds + 0.0005) - halfDigit);
    expect(rate, lines[8]).toBeLessThanOrEqual(42 / Math.max(seconds - 0.0005, 0.0001) + halfDigit);
    for (const [i, name] of [[9, "connect"], [10, "first-byte"]] as const) {
      const m = new RegExp(
        `^${name} latency: min ([\\d.]+) p50 ([\\d.]+) p90 ([\\d.]+) p99 ([\\d.]+) max ([\\d.]+) ms \\(n=7\\)$`,
      )
        .exec(lines[i]!);
      expect(m, lines[i]).not.toBeNull();
      const v = m!.slice(1).map(Number);
      expect([...v].sort((a, b) => a - b)).toEqual(v); // min <= p50 <= p90 <= p99 <= max
      // No latency beyond the whole run, to the rounding of both printed figures.
      const maxHalfDigit = 0.5 * 10 ** -(m![5]!.split(".")[1]?.length ?? 0);
      expect(v[4], `${lines[i]} / ${lines[8]}`).toBeLessThanOrEqual(seconds * 1000 + 0.5 + maxHalfDigit);
    }
  });

  test("request escapes a text reply's control characters when stdout is a terminal, not when piped", async () => {
    const at = await started(appReplyPeer(appMessage(JSON.stringify({ result: EVIL }))));
    const piped = await runCli(runtime, ["request", at, "search", "x"]);
    expect(piped.code).toBe(0);
    expect(piped.stdout.toString()).toBe(EVIL + "\n");

    // script(1) runs the client on a pseudo-terminal (util-linux).
    const [cmd, pre] = cliCommand(runtime);
    const line = [cmd, ...pre, "request", at, "search", "x"].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
    // Not spawnSync: the peer lives in this process and must keep answering meanwhile.
    const tty = await runCli(runtime, [], { command: ["script", ["-q", "-e", "-c", line, "/dev/null"]] }).catch(
      (err: Error) => {
        throw new Error(`this test needs script(1) from util-linux: ${err.message}`);
      },
    );
    expect(tty.code, tty.stderr).toBe(0);
    expect(tty.stdout.toString()).toBe("\\x1b]0;pwned\\x07\\x1b[31mred\\x1b[0m \\x9b2J\r\n");
  });

  test("the README's CLI reference is the real --help: top level, serve, send, request, probe", async () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const blockAfter = (heading: string) => /```\n([\s\S]*?)```\n/.exec(readme.slice(readme.indexOf(heading)))?.[1];
    const top = await runCli(runtime, ["--help"]);
    expect(blockAfter("## CLI reference\n"), "README block for the top level").toBe(top.stdout.toString());
    for (const cmd of ["serve", "send", "request", "probe"]) {
      const h = await runCli(runtime, [cmd, "--help"]);
      expect(blockAfter(`### \`switchboard ${cmd}\``), `README block for ${cmd}`).toBe(h.stdout.toString());
    }
  });
});
