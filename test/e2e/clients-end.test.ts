// Every client ends by itself: against peers that never answer or never close, `send`,
// `send --framing`, `send -c` and `request` give up after --wait with exit 1 and one clear
// line; Ctrl-C on `send -c` prints the report so far and exits 130; a server that refuses
// a request and resets is heard (its reply shown) before the client's own write failure.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, cliCommand, type CliRuntime, runCli } from "../support/cli.ts";
import { type Peer, rejectOversizePeer, silentPeer } from "../support/misbehaving-peers.ts";
import { waitFor, withTimeout } from "../support/sockets.ts";

/** The one stderr line of a client that gave up on a silent peer after `wait`. */
const silenceLine = (port: number, wait: string) =>
  new RegExp(`^switchboard: 127\\.0\\.0\\.1:${port}: no bytes either way for ${wait} \\(--wait\\); giving up`);

describe.each(CLI_RUNTIMES)("clients end by themselves on %s", (runtime: CliRuntime) => {
  let silent: Peer;
  beforeAll(async () => {
    silent = await silentPeer();
  });
  afterAll(async () => {
    await silent.close();
  });

  test("send: a peer that accepts and never answers nor closes ends it after the default --wait (10s)", async () => {
    const r = await runCli(runtime, ["send", `127.0.0.1:${silent.port}`, "hello"], { timeoutMs: 40_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(silenceLine(silent.port, "10s"));
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("send, send --framing, send -c and request end after -w/--wait with exit 1 and one line", async () => {
    const at = `127.0.0.1:${silent.port}`;
    const plain = await runCli(runtime, ["send", at, "-w", "300ms"], { stdin: "hello\n" });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(silenceLine(silent.port, "300ms"));

    const framed = await runCli(runtime, ["send", at, "--wait", "300ms", "--framing", "lp:u16", "a", "b"]);
    expect(framed.code).toBe(1);
    expect(framed.stderr).toMatch(silenceLine(silent.port, "300ms"));
    expect(framed.stderr).toMatch(/; sent 2 frames, received 0 \(expected 2\)$/m);

    const many = await runCli(runtime, ["send", at, "-w", "300ms", "-c", "3", "hello"]);
    expect(many.code).toBe(1);
    const lines = many.stdout.toString().trim().split("\n");
    for (const line of lines.slice(0, 3)) {
      expect(line).toMatch(
        /^conn \d: error: no bytes either way for 300ms \(--wait\); giving up, sent 6 bytes, received 0 bytes/,
      );
    }
    expect(lines[3]).toMatch(/: 0 ok, 3 failed; sent 18 bytes, received 0 bytes$/);

    const req = await runCli(runtime, ["request", at, "-w", "300ms", "search", "ring"]);
    expect(req.code).toBe(1);
    expect(req.stderr).toMatch(silenceLine(silent.port, "300ms"));
    expect(req.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("Ctrl-C on send -c N prints the report so far and exits 130", async () => {
    const quiet = await silentPeer(); // its own: the byte count below is this run's
    const [cmd, pre] = cliCommand(runtime);
    const child = spawn(cmd, [...pre, "send", `127.0.0.1:${quiet.port}`, "-c", "4", "-w", "1m", "hi"]);
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("close", (code, signal) => resolve({ code, signal }))
    );
    try {
      // All 4 connected and have sent their input: the run is mid-way, waiting on silence.
      await waitFor(() => quiet.accepted() === 4 && quiet.bytesIn() === 12, "4 connections, each sending hi\\n");
      child.kill("SIGINT");
      const r = await withTimeout(exited, 15_000, "send -c to exit after SIGINT");
      expect(r, err).toEqual({ code: 130, signal: null });
    } finally {
      child.kill("SIGKILL");
      await quiet.close();
    }
    const lines = out.trim().split("\n");
    expect(lines.slice(0, 4)).toEqual(
      [1, 2, 3, 4].map((i) =>
        expect.stringMatching(new RegExp(`^conn ${i}: error: interrupted, sent 3 bytes, received 0 bytes`))
      ),
    );
    expect(lines[4]).toMatch(
      /^4 connections to 127\.0\.0\.1:\d+: 0 ok, 4 failed \(interrupted\); sent 12 bytes, received 0 bytes$/,
    );
    expect(lines[5]).toMatch(/^duration \d+\.\d{3} s; throughput: /);
    expect(lines[6]).toMatch(/^connect latency: min .* \(n=4\)$/);
    expect(lines[7]).toBe("first-byte latency: none");
    expect(err).toBe("switchboard: interrupted; 0 of 4 connections had finished\n");
  });

  test("a server that refuses an oversize request with an error reply and resets: the reply is shown", async () => {
    const strict = await rejectOversizePeer(64 * 1024);
    try {
      const big = randomBytes(8 * 1024 * 1024);
      const req = await runCli(runtime, ["request", `127.0.0.1:${strict.port}`, "--binary"], { stdin: big });
      expect(req.code).toBe(1);
      expect(req.stderr).toBe("switchboard: server replied with an error: Error: request too large.\n");

      const send = await runCli(runtime, ["send", `127.0.0.1:${strict.port}`], { stdin: big });
      expect(send.code).toBe(1);
      expect(send.stdout.toString()).toContain('{"result":"Error: request too large.","error":"content-too-large"}');
      expect(send.stderr.trim().split("\n")).toHaveLength(1);
      expect(send.stderr).toMatch(/^switchboard: 127\.0\.0\.1:\d+: connection failed: /);
    } finally {
      await strict.close();
    }
  });
});
