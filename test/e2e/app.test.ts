// The app protocol end to end on every runtime: `serve --service app` answers the Python
// clients (pipelining, trickling, and a tutorial-style one-shot client), and
// `switchboard request` talks to both our server and the Python server.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nodeTransport } from "../../adapters/node/transport.ts";
import { binaryMessage, decodeJson, jsonMessage } from "../../src/app/content.ts";
import { appEnvelope, type AppMessage, encodeMessage } from "../../src/app/envelope.ts";
import { ByteQueue, decodeEofAll } from "../../src/codec/index.ts";
import type { Addr } from "../../src/transport.ts";
import {
  CLI_RUNTIMES,
  type CliRuntime,
  dataSegmentsSent,
  runCli,
  type RunningServer,
  startServer,
} from "../support/cli.ts";
import { concat, exchange, pattern, waitFor } from "../support/sockets.ts";
import { hasPython, PYTHON, type PythonServer, runPython, startPythonServer } from "../python/peers.ts";

const tcp = (port: number): Addr => ({ transport: "tcp", hostname: "127.0.0.1", port });
const RING = "In the caves beneath the Misty Mountains. \u{1f48d}";
const MORPHEUS = "Follow the white rabbit. \u{1f430}";

function replies(bytes: Uint8Array): AppMessage[] {
  const q = new ByteQueue();
  q.push(bytes);
  return decodeEofAll(appEnvelope({ maxContent: 1 << 26 }), q);
}
const result = (m: AppMessage) => (decodeJson(m) as { result: unknown }).result;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const python = hasPython();

describe.each(CLI_RUNTIMES)("app protocol on %s", (runtime: CliRuntime) => {
  describe("switchboard's app server", () => {
    // Unset when it failed to start: afterAll checks.
    let server: RunningServer;
    let dataDir: string;
    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "sb-app-"));
      server = await startServer(runtime, ["--service", "app", "--listen", "127.0.0.1:0", "--max-frame", "256KiB"]);
    });
    afterAll(async () => {
      try {
        // undefined when it failed to start (beforeAll reports that failure).
        if (server as RunningServer | undefined) {
          const r = await server.stop();
          expect(r.code, server.log()).toBe(0);
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    test("`request ADDR search KEY` prints the dictionary value", async () => {
      const r = await runCli(runtime, ["request", `127.0.0.1:${server.port}`, "search", "ring"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.toString()).toBe(RING + "\n");
      const dog = await runCli(runtime, ["request", `127.0.0.1:${server.port}`, "search", "\u{1f436}"]);
      expect(dog.stdout.toString()).toBe("\u{1f43e} Playing ball! \u{1f3d0}\n");
    });

    test("`request` echo, binary (stdin) and an invalid action (exit 1)", async () => {
      const at = `127.0.0.1:${server.port}`;
      expect((await runCli(runtime, ["request", at, "echo", "hi", "there"])).stdout.toString()).toBe("hi there\n");
      const data = pattern(100_000, 3);
      const bin = await runCli(runtime, ["request", at, "--binary"], { stdin: data });
      expect(bin.code, bin.stderr).toBe(0);
      expect(bin.stdout.toString()).toContain(`length=100000 sha256=${sha256(data)} (matches the 100000 bytes sent)`);
      const bad = await runCli(runtime, ["request", at, "fly", "away"]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/server replied with an error: Error: invalid action "fly"\./);
    });

    test("100 requests back to back in one write, and one request byte by byte, come back intact", async () => {
      const requests = Array.from(
        { length: 100 },
        (_, i) =>
          i % 2 ? jsonMessage({ action: "echo", value: `v${i} \u{1f436}` }) : binaryMessage(pattern(i * 50, i + 1)),
      );
      const all = await exchange(nodeTransport, tcp(server.port), concat(requests.map((m) => encodeMessage(m))));
      const got = replies(all.received);
      expect(got).toHaveLength(100);
      got.forEach((m, i) => {
        if (i % 2) expect(result(m)).toBe(`v${i} \u{1f436}`);
        else {expect(new TextDecoder().decode(m.content)).toBe(
            `length=${i * 50} sha256=${sha256(requests[i]!.content)}`,
          );}
      });
      // One byte per write, 1 ms apart with Nagle off: one segment per byte (ss counts
      // them), so the server reads the request piecemeal rather than in one read.
      const request = encodeMessage(jsonMessage({ action: "search", value: "morpheus" }));
      let segments = 0;
      const one = await exchange(nodeTransport, tcp(server.port), request, {
        writeSize: 1,
        gapMs: 1,
        onSent: (c) => (segments = dataSegmentsSent(c)),
      });
      expect(replies(one.received).map(result)).toEqual([MORPHEUS]);
      expect(segments, `${request.length} bytes in ${segments} segments`).toBeGreaterThanOrEqual(request.length / 4);
    });

    test("bad input gets a JSON error reply, one log line, a close; the server stays up", async () => {
      const wire = concat([new Uint8Array([0, 4]), new TextEncoder().encode("nope")]);
      const r = await exchange(nodeTransport, tcp(server.port), wire, { halfClose: false });
      const [reply] = replies(r.received);
      expect(decodeJson(reply!)).toEqual({ result: "Error: header is not valid JSON.", error: "header-not-json" });
      expect(r.gotEnd).toBe(true);
      await waitFor(
        () => /reason=protocol-error .*error="header is not valid JSON"/.test(server.log()),
        "the log line",
        5000,
      );
      // Over --max-frame (256 KiB), refused from the header alone.
      const big = encodeMessage(binaryMessage(new Uint8Array(300 * 1024))).subarray(0, 200);
      const r2 = await exchange(nodeTransport, tcp(server.port), big, { halfClose: false });
      expect(decodeJson(replies(r2.received)[0]!)).toMatchObject({ error: "content-too-large" });
      const after = await runCli(runtime, ["request", `127.0.0.1:${server.port}`, "search", "ring"]);
      expect(after.stdout.toString()).toBe(RING + "\n");
    });

    test("--data FILE replaces the dictionary", async () => {
      const file = join(dataDir, "words.json");
      writeFileSync(file, JSON.stringify({ switchboard: "connects calls \u260e", n: 7 }));
      const s = await startServer(runtime, ["--service", "app", "--data", file, "--listen", "127.0.0.1:0"]);
      try {
        const r = await runCli(runtime, ["request", `127.0.0.1:${s.port}`, "search", "switchboard"]);
        expect(r.stdout.toString()).toBe("connects calls \u260e\n");
        const miss = await runCli(runtime, ["request", `127.0.0.1:${s.port}`, "search", "ring"]);
        expect(miss.stdout.toString()).toBe('No match for "ring".\n');
      } finally {
        expect((await s.stop()).code).toBe(0);
      }
    });

    // Not skipped without Python: CI installs python3, so a missing interpreter is a failure.
    describe("Python clients (standard library only)", () => {
      test("python3 can run the peers", () => {
        expect(python, `${PYTHON} with selectors, struct and json is required for the interop tests`).toBe(true);
      });

      test("the pipelining Python client: mixed requests in one sendall, all answered in order", async () => {
        const r = await runPython("app_client.py", [
          "127.0.0.1",
          String(server.port),
          "search:ring",
          "echo:hello",
          "binary:abc",
          'json:{"action": "nope"}',
          "search:\u{1f436}",
          "repeat:50:search:morpheus",
        ]);
        expect(r.code, r.stderr).toBe(0);
        const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
        expect(lines).toHaveLength(55);
        expect(lines[0]).toMatchObject({ type: "text/json", result: RING });
        expect(lines[1]).toMatchObject({ result: "hello" });
        expect(lines[2]).toEqual({
          type: "binary/custom-server-binary-type",
          binary: `length=3 sha256=${sha256(new TextEncoder().encode("abc"))}`,
        });
        expect(lines[3]).toMatchObject({ result: 'Error: invalid action "nope".', error: "invalid-action" });
        expect(lines[4]).toMatchObject({ result: "\u{1f43e} Playing ball! \u{1f3d0}" });
        for (const l of lines.slice(5)) expect(l.result).toBe(MORPHEUS);
      });

      test("the Python client sending one byte per send()", async () => {
        const r = await runPython("app_client.py", [
          "--trickle",
          "127.0.0.1",
          String(server.port),
          "search:ring",
          "echo:x",
        ]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.trim().split("\n").map((l) => JSON.parse(l).result)).toEqual([RING, "x"]);
      });

      test("a tutorial-style one-shot client (one request, one reply, close; no half-close)", async () => {
        const s = await runPython("oneshot_client.py", ["127.0.0.1", String(server.port), "search", "morpheus"]);
        expect(s.code, s.stderr).toBe(0);
        expect(s.stdout).toBe(`result: ${MORPHEUS}\n`);
        const b = await runPython("oneshot_client.py", ["127.0.0.1", String(server.port), "double", "x"]);
        expect(b.code, b.stderr).toBe(0);
        expect(b.stdout).toBe(`binary: b'length=7 sha256=${sha256(new TextEncoder().encode("doublex"))}'\n`);
      });
    });
  });

  test("serve --max-in-flight 1: 300 requests in one write are still all answered, in order; 0 is a usage error", async () => {
    const bad = await runCli(runtime, ["serve", "--service", "app", "--max-in-flight", "0"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-in-flight/);
    const server = await startServer(runtime, ["--service", "app", "--listen", "127.0.0.1:0", "--max-in-flight", "1"]);
    try {
      const requests = Array.from({ length: 300 }, (_, i) => jsonMessage({ action: "echo", value: `n${i}` }));
      const all = await exchange(nodeTransport, tcp(server.port), concat(requests.map((m) => encodeMessage(m))));
      expect(replies(all.received).map(result)).toEqual(requests.map((_, i) => `n${i}`));
    } finally {
      expect((await server.stop()).code, server.log()).toBe(0);
    }
  });

  // Not skipped without Python: CI installs python3, so a missing interpreter is a failure.
  describe("switchboard request against the Python server", () => {
    // Each unset until (unless) it started: afterAll checks.
    let py: PythonServer;
    let oneShot: PythonServer;
    beforeAll(async () => {
      expect(python, `${PYTHON} with selectors, struct and json is required for the interop tests`).toBe(true);
      // Record each server as soon as it is up, so afterAll stops it even if the other failed.
      const results = await Promise.allSettled([
        startPythonServer().then((s) => (py = s)),
        startPythonServer(["--one-shot"]).then((s) => (oneShot = s)),
      ]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
    });
    afterAll(async () => {
      await Promise.all([py as PythonServer | undefined, oneShot as PythonServer | undefined].map((s) => s?.stop()));
    });

    test("search, echo and binary get the Python server's answers", async () => {
      const at = `127.0.0.1:${py.port}`;
      const r = await runCli(runtime, ["request", at, "search", "ring"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.toString()).toBe(RING + "\n");
      expect((await runCli(runtime, ["request", at, "echo", "\u{1f430}"])).stdout.toString()).toBe("\u{1f430}\n");
      const data = pattern(50_000, 9);
      const bin = await runCli(runtime, ["request", at, "--binary"], { stdin: data });
      expect(bin.code, bin.stderr).toBe(0);
      expect(bin.stdout.toString()).toContain(`(matches the 50000 bytes sent)`);
    });

    test("an invalid action is an error result: exit 1", async () => {
      const r = await runCli(runtime, ["request", `127.0.0.1:${py.port}`, "--json", '{"action": "jump", "value": 1}']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Error: invalid action "jump"\./);
    });

    test("a server that closes after one reply (like the tutorial's) works too", async () => {
      const r = await runCli(runtime, ["request", `127.0.0.1:${oneShot.port}`, "search", "morpheus"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.toString()).toBe(MORPHEUS + "\n");
    });
  });
});
