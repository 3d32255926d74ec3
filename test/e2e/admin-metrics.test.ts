// /metrics under a scripted scenario, on every runtime with the real CLI, checked by a
// real Prometheus parser (`promtool check metrics`, Debian's prometheus package): N
// exchanges accepted, M connections refused by the per-IP cap, K cut by the idle
// deadline, and app requests by action and outcome, each counted exactly.
import * as net from "node:net";
import { describe, expect, test } from "vitest";
import { CLI_RUNTIMES, type CliRuntime, runCli, startServer } from "../support/cli.ts";
import { adminAddr, getText, pollUntil, promtool, sample } from "../support/admin.ts";
import { withTimeout } from "../support/sockets.ts";

/** Open a connection from `localAddress` (any 127/8 address is loopback on Linux). */
function open(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port, localAddress }, () => resolve(s));
    s.on("error", reject);
  });
}

/** Echo `text` over one connection: send, half-close, read to the server's close. */
function echo(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => s.end(text));
    let got = "";
    s.on("data", (b) => (got += b.toString()));
    s.on("error", reject);
    s.on("close", () => resolve(got));
  });
}

/**
 * Connect from `localAddress` and resolve once the server has closed the connection (a
 * refused one is aborted at accept: the reset may even beat our own connect event).
 */
function refused(port: number, localAddress: string): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port, localAddress });
    s.on("error", () => {});
    s.on("close", () => resolve());
  });
}

describe.each(CLI_RUNTIMES)("metrics on %s", (runtime: CliRuntime) => {
  test("promtool accepts /metrics; N accepted, M refused per IP, K idle-cut are counted exactly", async () => {
    const N = 5, M = 3, K = 2;
    const server = await startServer(runtime, [
      "--listen",
      "127.0.0.1:0",
      "--admin",
      "127.0.0.1:0",
      "--max-conns-per-ip",
      String(K),
      // Long enough for the K-open poll and the M refusals to happen while the K are held.
      "--idle-timeout",
      "4s",
    ]);
    const held: net.Socket[] = [];
    try {
      const addr = await adminAddr(server);
      const before = promtool(await getText(addr, "/metrics"));
      expect(before.status, before.output).toBe(0);

      // N quick exchanges from 127.0.0.1, each closed by the peer (us) after its echo.
      const payload = "hello metrics\n";
      for (let i = 0; i < N; i++) expect(await withTimeout(echo(server.port, payload), 10_000, "echo")).toBe(payload);
      // K silent connections from 127.0.0.3 fill its per-IP cap; M more from there are refused.
      for (let i = 0; i < K; i++) held.push(await open(server.port, "127.0.0.3"));
      await pollUntil(
        async () => sample(await getText(addr, "/metrics"), "switchboard_connections_open"),
        (n) => n === K,
        "K open",
      );
      for (let i = 0; i < M; i++) {
        await withTimeout(refused(server.port, "127.0.0.3"), 10_000, "a refused connection to be closed");
      }
      // The K held connections stay silent until the idle deadline cuts them.
      const text = await pollUntil(
        () => getText(addr, "/metrics"),
        (t) => sample(t, 'switchboard_connections_closed_total{reason="idle-timeout"}') === K,
        "K idle-timeout closes",
        20_000,
      );
      const check = promtool(text);
      expect(check.status, check.output).toBe(0);
      expect(sample(text, "switchboard_connections_accepted_total")).toBe(N + K);
      expect(sample(text, 'switchboard_connections_refused_total{reason="max-conns-per-ip"}')).toBe(M);
      expect(sample(text, 'switchboard_connections_refused_total{reason="max-conns"}')).toBe(0);
      expect(sample(text, 'switchboard_connections_closed_total{reason="peer-closed"}')).toBe(N);
      expect(sample(text, 'switchboard_connections_closed_total{reason="frame-timeout"}')).toBe(0);
      expect(sample(text, "switchboard_connections_open")).toBe(0);
      expect(sample(text, "switchboard_connection_duration_seconds_count")).toBe(N + K);
      // The idle-cut ones lived at least the idle deadline.
      expect(sample(text, 'switchboard_connection_duration_seconds_bucket{le="+Inf"}')).toBe(N + K);
      expect(sample(text, "switchboard_connection_duration_seconds_sum")).toBeGreaterThanOrEqual(K * 1);
      expect(sample(text, "switchboard_received_bytes_total")).toBe(N * payload.length);
      expect(sample(text, "switchboard_sent_bytes_total")).toBe(N * payload.length);
      expect(sample(text, "switchboard_queued_bytes")).toBe(0);
      expect(sample(text, "switchboard_draining")).toBe(0);
      expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(0);

      const status = JSON.parse(await getText(addr, "/status.json"));
      expect(status.connections).toMatchObject({ open: 0, accepted: N + K, refused: M, closed: N + K });
      expect(status.refusedByReason["max-conns-per-ip"]).toBe(M);
    } finally {
      for (const s of held) s.destroy();
      await server.stop();
    }
  });

  test("app requests by action and outcome, and frames in and out", async () => {
    const server = await startServer(runtime, [
      "--service",
      "app",
      "--listen",
      "127.0.0.1:0",
      "--admin",
      "127.0.0.1:0",
    ]);
    try {
      const addr = await adminAddr(server);
      const at = `127.0.0.1:${server.port}`;
      const requests: [string[], number][] = [
        [["search", "ring"], 0],
        [["search", "nothing-here"], 0],
        [["echo", "hi"], 0],
        [["--json", '{"action":"dance"}'], 1],
        [["--binary", "some bytes"], 0],
      ];
      for (const [args, code] of requests) {
        const r = await runCli(runtime, ["request", at, ...args]);
        expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(code);
      }
      const text = await pollUntil(
        () => getText(addr, "/metrics"),
        (t) => sample(t, "switchboard_connections_open") === 0,
        "every request connection closed",
      );
      const check = promtool(text);
      expect(check.status, check.output).toBe(0);
      const req = (action: string, outcome: string) =>
        sample(text, `switchboard_app_requests_total{action="${action}",outcome="${outcome}"}`);
      expect(req("search", "ok")).toBe(1);
      expect(req("search", "no-match")).toBe(1);
      expect(req("echo", "ok")).toBe(1);
      expect(req("other", "invalid-action")).toBe(1);
      expect(req("binary", "ok")).toBe(1);
      expect(sample(text, "switchboard_app_request_duration_seconds_count")).toBe(requests.length);
      expect(sample(text, "switchboard_frames_received_total")).toBe(requests.length);
      expect(sample(text, "switchboard_frames_sent_total")).toBe(requests.length);
    } finally {
      await server.stop();
    }
  });
});
