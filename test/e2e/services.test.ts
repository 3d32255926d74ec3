// Every service as users run it: `switchboard serve --service NAME` on each runtime,
// driven over real TCP from this (Node) process and by `switchboard send` itself.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nodeTransport } from "../../adapters/node/transport.ts";
import { parseFraming } from "../../src/codec/index.ts";
import type { Addr } from "../../src/transport.ts";
import {
  CLI_RUNTIMES,
  type CliRuntime,
  dataSegmentsSent,
  runCli,
  type RunningServer,
  startServer,
} from "../support/cli.ts";
import { concat, exchange, pattern, sameBytes, waitFor, withTimeout } from "../support/sockets.ts";

const tcp = (port: number): Addr => ({ transport: "tcp", hostname: "127.0.0.1", port });
const FRAMINGS = ["line", "crlf", "fixed:16", "lp:u8", "lp:u16", "lp:u32", "lp:u64", "lp:ascii5", "delim:00"];

/** A frame payload of `size` bytes (16 for fixed:16) that `spec` can carry. */
function frameFor(spec: string, size: number, seed: number): Uint8Array {
  const p = pattern(spec.startsWith("fixed:") ? 16 : size, seed);
  if (spec === "line" || spec === "crlf") return p.map((b) => 0x41 + (b % 26));
  if (spec === "delim:00") return p.map((b) => b || 1);
  return p;
}

function framesFor(spec: string, count: number): Uint8Array[] {
  return Array.from(
    { length: count },
    (_, i) => frameFor(spec, spec === "lp:u8" ? 1 + (i % 250) : 1 + ((i * 31) % 300), i + 1),
  );
}

function encode(spec: string, frames: Uint8Array[]): Uint8Array {
  const codec = parseFraming(spec);
  const parts: Uint8Array[] = [];
  for (const f of frames) codec.encode(f, (b) => parts.push(b));
  return concat(parts);
}

/** Stops a server and checks the graceful exit. */
async function stopCleanly(server: RunningServer): Promise<void> {
  const r = await server.stop();
  expect(r.code, server.log()).toBe(0);
}

/**
 * Start one server per key, recording each in `into` as soon as it is up, so that when
 * one fails to start the others are still stopped by afterAll. Throws the first failure.
 */
async function startEach(
  into: Map<string, RunningServer>,
  keys: readonly string[],
  start: (key: string) => Promise<RunningServer>,
): Promise<void> {
  const results = await Promise.allSettled(keys.map(async (k) => void into.set(k, await start(k))));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

/** Stop every server in `servers` (all of them, even when one fails), checking each exit. */
async function stopAll(servers: Map<string, RunningServer>): Promise<void> {
  const results = await Promise.allSettled([...servers.values()].map(stopCleanly));
  servers.clear();
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

describe.each(CLI_RUNTIMES)("services on %s", (runtime: CliRuntime) => {
  describe("framed echo, every framing", () => {
    const servers = new Map<string, RunningServer>();
    beforeAll(() =>
      startEach(
        servers,
        FRAMINGS,
        (spec) => startServer(runtime, ["--service", "echo", "--framing", spec, "--listen", "127.0.0.1:0"]),
      )
    );
    afterAll(() => stopAll(servers));

    test.each(FRAMINGS)("%s: 100 frames in one write and one frame byte by byte come back intact", async (spec) => {
      const server = servers.get(spec)!;
      expect(server.log()).toContain(`framing=${spec}`);
      const wire = encode(spec, framesFor(spec, 100));
      const all = await withTimeout(exchange(nodeTransport, tcp(server.port), wire), 20_000, "100 frames");
      expect(all.error).toBeUndefined();
      expect(sameBytes(all.received, wire)).toBe(true);
      // One byte per write, 1 ms apart with Nagle off: one segment per byte (ss counts
      // them), so the server reads the frame piecemeal rather than in one read.
      const one = encode(spec, [frameFor(spec, 32, 7)]);
      let segments = 0;
      const trickled = await withTimeout(
        exchange(nodeTransport, tcp(server.port), one, {
          writeSize: 1,
          gapMs: 1,
          onSent: (c) => (segments = dataSegmentsSent(c)),
        }),
        20_000,
        "byte by byte",
      );
      expect(trickled.error).toBeUndefined();
      expect(sameBytes(trickled.received, one)).toBe(true);
      expect(segments, `${one.length} bytes in ${segments} segments`).toBeGreaterThanOrEqual(one.length / 4);
    });

    test("send --framing prints each reply frame on a line; -c N reports every connection", async () => {
      const port = servers.get("lp:u32")!.port;
      const r = await runCli(runtime, [
        "send",
        `127.0.0.1:${port}`,
        "--framing",
        "lp:u32",
        "alpha",
        "beta",
        "gamma delta",
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.toString()).toBe("alpha\nbeta\ngamma delta\n");
      const lines = await runCli(runtime, ["send", `127.0.0.1:${port}`, "--framing", "lp:u32"], {
        stdin: "one\ntwo\n",
      });
      expect(lines.stdout.toString()).toBe("one\ntwo\n");
      const many = await runCli(runtime, ["send", `127.0.0.1:${port}`, "--framing", "lp:u32", "-c", "10", "x", "yz"]);
      expect(many.code, many.stderr).toBe(0);
      const out = many.stdout.toString().trim().split("\n");
      expect(out).toHaveLength(14); // 10 connections, the total, duration, 2 latency lines
      for (const line of out.slice(0, 10)) {
        expect(line).toMatch(/^conn \d+: ok, sent 11 bytes, received 11 bytes, 2 frames, \d+ ms$/);
      }
      expect(out[10]).toMatch(/10 ok, 0 failed; sent 110 bytes, received 110 bytes/);
    });

    test("a frame over --max-frame closes that connection with a logged protocol error; the server stays up", async () => {
      const server = servers.get("lp:u32")!;
      const bad = await exchange(nodeTransport, tcp(server.port), new Uint8Array([0xff, 0, 0, 0, 1]), {
        halfClose: false,
      });
      expect(bad.received.length).toBe(0);
      // The log line travels through the server's stderr pipe: give it a moment.
      await waitFor(
        () => /reason=protocol-error .*exceeds the 1048576-byte limit/.test(server.log()),
        "the protocol-error log line",
        5000,
      );
      const ok = await exchange(nodeTransport, tcp(server.port), encode("lp:u32", framesFor("lp:u32", 3)));
      expect(ok.received.length).toBeGreaterThan(0);
    });
  });

  describe("the classic services", () => {
    const servers = new Map<string, RunningServer>();
    const names = ["echo", "discard", "daytime", "chargen", "time"];
    beforeAll(() =>
      startEach(servers, names, (n) => startServer(runtime, ["--service", n, "--listen", "127.0.0.1:0"]))
    );
    afterAll(() => stopAll(servers));

    test("echo: raw bytes back, in order", async () => {
      const payload = pattern(200_000, 5);
      const r = await exchange(nodeTransport, tcp(servers.get("echo")!.port), payload, { writeSize: 7000 });
      expect(sameBytes(r.received, payload)).toBe(true);
    });

    test("discard: nothing back; clean close after our half-close", async () => {
      const r = await exchange(nodeTransport, tcp(servers.get("discard")!.port), pattern(300_000, 6));
      expect(r.received.length).toBe(0);
      expect(r.gotEnd).toBe(true);
      expect(r.error).toBeUndefined();
    });

    test("daytime: one line of text, then the server closes", async () => {
      const r = await exchange(nodeTransport, tcp(servers.get("daytime")!.port), new Uint8Array(0), {
        halfClose: false,
      });
      expect(new TextDecoder().decode(r.received)).toMatch(
        /^[A-Z][a-z]+day, [A-Z][a-z]+ \d{1,2}, \d{4} \d\d:\d\d:\d\d-UTC\r\n$/,
      );
      expect(r.gotEnd).toBe(true);
    });

    test("time: 4 big-endian bytes of seconds since 1900, then the server closes", async () => {
      const r = await exchange(nodeTransport, tcp(servers.get("time")!.port), new Uint8Array(0), { halfClose: false });
      expect(r.received.length).toBe(4);
      const seconds = new DataView(r.received.buffer, r.received.byteOffset).getUint32(0);
      expect(Math.abs((seconds - 2_208_988_800) * 1000 - Date.now())).toBeLessThan(10_000);
    });

    test("chargen: the RFC 864 line pattern; stops on our half-close", async () => {
      const r = await exchange(nodeTransport, tcp(servers.get("chargen")!.port), new Uint8Array(0));
      expect(r.gotEnd).toBe(true);
      expect(r.received.length, "chargen sent at least its first line").toBeGreaterThanOrEqual(74);
      const first = new TextDecoder().decode(r.received.subarray(0, 74));
      expect(first).toBe(Array.from({ length: 72 }, (_, i) => String.fromCharCode(32 + i)).join("") + "\r\n");
    });

    test("chargen: a client reading 2 MB gets an unbroken pattern", async () => {
      const port = servers.get("chargen")!.port;
      const got: Uint8Array[] = [];
      let total = 0;
      await new Promise<void>((resolve, reject) => {
        nodeTransport.connect({ addr: tcp(port) }, {
          data(c, chunk) {
            got.push(chunk);
            total += chunk.length;
            if (total >= 2_000_000) c.close();
          },
          close: () => resolve(),
        }).catch(reject);
      });
      const bytes = concat(got);
      const cycle = bytes.subarray(0, 95 * 74);
      for (let at = 0; at + cycle.length <= bytes.length; at += cycle.length) {
        expect(sameBytes(bytes.subarray(at, at + cycle.length), cycle)).toBe(true);
      }
      expect(new TextDecoder().decode(cycle.subarray(74, 76))).toBe('!"');
    });
  });
});
