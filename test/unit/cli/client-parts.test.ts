// The parts the clients are built from: latency percentiles, the silence deadline, and
// escaping a reply for a terminal.
import { describe, expect, test } from "vitest";
import { escapeBytes, escapeControls } from "../../../src/cli/escape.ts";
import { formatBytes, formatReport, newResult } from "../../../src/cli/send-report.ts";
import { formatMs, LatencyRecorder } from "../../../src/latency.ts";
import { SilenceError, SilenceTimer } from "../../../src/silence.ts";
import { sleep, waitFor } from "../../support/sockets.ts";

describe("LatencyRecorder", () => {
  test("nearest-rank percentiles over 1..100 and over one sample", () => {
    const r = new LatencyRecorder();
    expect(r.summary()).toBeUndefined();
    for (let i = 100; i >= 1; i--) r.add(i); // out of order, past the initial capacity
    expect(r.summary()).toEqual({ count: 100, min: 1, p50: 50, p90: 90, p99: 99, max: 100 });
    r.add(0.5);
    expect(r.percentile(0)).toBe(0.5);
    const one = new LatencyRecorder();
    one.add(3.25);
    expect(one.summary()).toEqual({ count: 1, min: 3.25, p50: 3.25, p90: 3.25, p99: 3.25, max: 3.25 });
  });

  test("formatting", () => {
    expect([formatMs(0.0421), formatMs(1.254), formatMs(37.44), formatMs(1250.2)]).toEqual([
      "0.042",
      "1.25",
      "37.4",
      "1250",
    ]);
    expect([formatBytes(512), formatBytes(1536), formatBytes(12.3 * 2 ** 20)]).toEqual([
      "512 B",
      "1.50 KiB",
      "12.3 MiB",
    ]);
  });
});

describe("send -c report", () => {
  test("unfinished connections count as interrupted failures; totals add up", () => {
    const done = { ...newResult(), sent: 5, received: 5, connectMs: 1, firstByteMs: 2, ms: 3, done: true };
    const pending = { ...newResult(), sent: 5, connectMs: 4 };
    const addr = { transport: "tcp" as const, hostname: "127.0.0.1", port: 9 };
    const r = formatReport({ addr, results: [done, pending], framed: false, elapsedMs: 1000, interrupted: true });
    expect(r.ok).toBe(false);
    expect(r.text.split("\n")).toEqual([
      "conn 1: ok, sent 5 bytes, received 5 bytes, 3 ms",
      "conn 2: error: interrupted, sent 5 bytes, received 0 bytes",
      "2 connections to 127.0.0.1:9: 1 ok, 1 failed (interrupted); sent 10 bytes, received 5 bytes",
      "duration 1.000 s; throughput: sent 10 B/s, received 5 B/s",
      "connect latency: min 1.00 p50 1.00 p90 4.00 p99 4.00 max 4.00 ms (n=2)",
      "first-byte latency: min 2.00 p50 2.00 p90 2.00 p99 2.00 max 2.00 ms (n=1)",
      "",
    ]);
  });
});

describe("SilenceTimer", () => {
  test("fires once after the quiet period; activity and progress push it back; stop() cancels", async () => {
    let fired = 0;
    const t = new SilenceTimer(600, () => fired++);
    const until = performance.now() + 1200;
    while (performance.now() < until) {
      t.touch();
      await sleep(20);
    }
    expect(fired).toBe(0); // kept busy for twice the deadline
    await waitFor(() => fired === 1, "the silence deadline", 5000);
    await sleep(300);
    expect(fired).toBe(1);

    let queued = 1000;
    let fired2 = 0;
    const p = new SilenceTimer(500, () => fired2++, { progress: () => queued });
    const end = performance.now() + 1000;
    while (performance.now() < end) {
      queued--; // the queue drains slowly: bytes are moving
      await sleep(20);
    }
    expect(fired2).toBe(0);
    await waitFor(() => fired2 === 1, "silence once the queue stops moving", 5000);
    p.stop();

    // While busy (our own output lags), the quiet does not count.
    let busy = true;
    let fired4 = 0;
    const b = new SilenceTimer(300, () => fired4++, { busy: () => busy });
    await sleep(1000);
    expect(fired4).toBe(0);
    busy = false;
    await waitFor(() => fired4 === 1, "silence once no longer busy", 5000);
    b.stop();

    let fired3 = 0;
    const s = new SilenceTimer(50, () => fired3++);
    s.stop();
    await sleep(150);
    expect(fired3).toBe(0);
    expect(new SilenceTimer(0, () => fired3++)).toBeDefined(); // 0: never armed
    await sleep(50);
    expect(fired3).toBe(0);
    expect(new SilenceError(1500).message).toBe("no bytes either way for 1500ms");
  });
});

describe("escaping", () => {
  test("control characters of text become \\xNN; tab, newline and Unicode stay", () => {
    expect(escapeControls("\x1b]0;t\x07\x1b[31mred\x7f\u009b\tok\n\u{1f436} é")).toBe(
      "\\x1b]0;t\\x07\\x1b[31mred\\x7f\\x9b\tok\n\u{1f436} é",
    );
    expect(escapeBytes(new Uint8Array([0x41, 0x5c, 0x00, 0xff]))).toBe("A\\\\\\x00\\xff");
  });
});
